//! Every word the widget shows, in English, French, Russian and Portuguese.
//!
//! Pure and native-testable. Deliberately free of `format!` and `to_string()` on numbers: the
//! formatting machinery would cost the widget about 10 KB of gzipped wasm, so the few strings
//! with a number or a name are assembled by hand with [`push_u32`] and `push_str`, and plurals are
//! picked with a per-language rule ([`plural`]).

use crate::model::Locale;
use crate::prelude::*;

/// A fixed string of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// Launcher's accessible name.
    OpenChat,
    /// Close button's accessible name.
    CloseChat,
    /// Panel title when the tenant set neither a title nor a site name.
    DefaultTitle,
    /// Greeting at the top of the list when the tenant did not write one.
    DefaultGreeting,
    /// Accessible name of the message list.
    Messages,
    /// Label and placeholder of the composer.
    ComposerLabel,
    /// Send button's accessible name.
    Send,
    /// Under a line the server has not acknowledged yet.
    Sending,
    /// Under a line the server refused.
    NotSent,
    /// Button removing a failed line.
    Remove,
    /// Screen-reader prefix of the visitor's own lines.
    You,
    /// Name of an advisor who has none.
    Advisor,
    /// Typing indicator when the advisor's name is unknown.
    SomeoneTyping,
    /// Banner while the first connection opens.
    Connecting,
    /// Banner after the connection dropped.
    Reconnecting,
    /// Banner when the server could not be reached several times in a row.
    ServerDown,
    /// Banner when the browser has no network.
    Offline,
    /// Banner when the server refused this page for good.
    Refused,
    /// Button in the banner that reconnects at once.
    RetryNow,
    /// Routing status when nobody is available and the tenant wrote no away message.
    Away,
    /// Routing status of a closed conversation. Stays the last key (see `KEYS`).
    Closed,
}

/// The string for `key` in `locale`.
pub fn text(locale: Locale, key: Key) -> &'static str {
    piece(locale, key as usize)
}

/// Row `row` of the texts in `locale`: a key's text, or a piece of a sentence.
fn piece(locale: Locale, row: usize) -> &'static str {
    let index = usize::from(locale as u8) * ROWS + row;
    match (STARTS.get(index), STARTS.get(index + 1)) {
        (Some(&start), Some(&end)) => TEXTS
            .get(usize::from(start)..usize::from(end))
            .unwrap_or_default(),
        _ => "",
    }
}

/// Every key, in declaration order (checked below: `KEYS[k as usize] == k`), so that the
/// compile-time packing can walk them.
const KEYS: [Key; 21] = [
    Key::OpenChat,
    Key::CloseChat,
    Key::DefaultTitle,
    Key::DefaultGreeting,
    Key::Messages,
    Key::ComposerLabel,
    Key::Send,
    Key::Sending,
    Key::NotSent,
    Key::Remove,
    Key::You,
    Key::Advisor,
    Key::SomeoneTyping,
    Key::Connecting,
    Key::Reconnecting,
    Key::ServerDown,
    Key::Offline,
    Key::Refused,
    Key::RetryNow,
    Key::Away,
    Key::Closed,
];

// `KEYS` lists every key at its position: a new key fails to compile in the match below
// until it is added there and to `KEYS`.
const _: () = {
    let mut k = 0;
    while k < KEYS.len() {
        assert!(KEYS[k] as usize == k);
        k += 1;
    }
    let last = KEYS.len() - 1;
    match KEYS[last] {
        Key::Closed => {}
        Key::OpenChat
        | Key::CloseChat
        | Key::DefaultTitle
        | Key::DefaultGreeting
        | Key::Messages
        | Key::ComposerLabel
        | Key::Send
        | Key::Sending
        | Key::NotSent
        | Key::Remove
        | Key::You
        | Key::Advisor
        | Key::SomeoneTyping
        | Key::Connecting
        | Key::Reconnecting
        | Key::ServerDown
        | Key::Offline
        | Key::Refused
        | Key::RetryNow
        | Key::Away => panic!("`Closed` must stay the last key, and the last of `KEYS`"),
    }
};

/// How many rows `TEXTS` has: one per key, then the `PIECES`.
const ROWS: usize = KEYS.len() + PIECES.len();

/// Every text, language by language (in [`Locale`] order), each language's row by row, packed at
/// compile time into one string, with where each text starts (`STARTS[locale * ROWS + row]`,
/// then the end). A table of `&str` rows costs the wasm a four-byte pointer and a four-byte
/// length per text, in the data section where they compress poorly; this costs two bytes per
/// text: ~0.3 KB gzip less. One language after the other rather than the four translations of
/// a row together: the compressor then sees one alphabet at a time (Cyrillic, accented Latin),
/// 35 B less gzip.
const TEXTS: &str = match core::str::from_utf8(&BYTES) {
    Ok(texts) => texts,
    Err(_) => panic!("the packed texts are UTF-8"),
};
const BYTES: [u8; packed_len(&UNPACKED)] = pack_bytes(&UNPACKED);
const STARTS: [u16; ROWS * 4 + 1] = pack_starts(&UNPACKED);
const UNPACKED: [&str; ROWS * 4] = {
    let mut texts = [""; ROWS * 4];
    let mut index = 0;
    while index < ROWS * 4 {
        let (locale, row) = (index / ROWS, index % ROWS);
        texts[index] = if row < KEYS.len() {
            texts_of(KEYS[row])[locale]
        } else {
            PIECES[row - KEYS.len()][locale]
        };
        index += 1;
    }
    texts
};

/// The length of `texts` laid end to end.
const fn packed_len(texts: &[&str]) -> usize {
    let mut len = 0;
    let mut index = 0;
    while index < texts.len() {
        len += texts[index].len();
        index += 1;
    }
    assert!(len <= u16::MAX as usize, "the offsets are u16");
    len
}

/// `texts` laid end to end; `LEN` is their `packed_len`.
const fn pack_bytes<const LEN: usize>(texts: &[&str]) -> [u8; LEN] {
    let mut bytes = [0; LEN];
    let mut at = 0;
    let mut index = 0;
    while index < texts.len() {
        let text = texts[index].as_bytes();
        let mut byte = 0;
        while byte < text.len() {
            bytes[at] = text[byte];
            at += 1;
            byte += 1;
        }
        index += 1;
    }
    bytes
}

/// Where each string starts, then the end: `N` is one more than `texts.len()`.
const fn pack_starts<const N: usize>(texts: &[&str]) -> [u16; N] {
    let mut starts = [0; N];
    let mut index = 0;
    while index < texts.len() {
        starts[index + 1] = starts[index] + texts[index].len() as u16;
        index += 1;
    }
    starts
}

/// The texts of `key` in en, fr, ru, pt: a missing translation does not compile.
const fn texts_of(key: Key) -> [&'static str; 4] {
    match key {
        Key::OpenChat => [
            "Chat with us",
            "Discuter avec nous",
            "Написать нам",
            "Fale conosco",
        ],
        Key::CloseChat => [
            "Close chat",
            "Fermer la discussion",
            "Закрыть чат",
            "Fechar o chat",
        ],
        Key::DefaultTitle => ["Chat", "Discussion", "Чат", "Chat"],
        Key::DefaultGreeting => [
            "Hi! How can we help you today?",
            "Bonjour\u{a0}! Comment pouvons-nous vous aider\u{a0}?",
            "Здравствуйте! Чем мы можем вам помочь?",
            "Olá! Como podemos ajudar?",
        ],
        Key::Messages => ["Messages", "Messages", "Сообщения", "Mensagens"],
        Key::ComposerLabel => [
            "Write a message…",
            "Écrivez un message…",
            "Напишите сообщение…",
            "Escreva uma mensagem…",
        ],
        Key::Send => ["Send", "Envoyer", "Отправить", "Enviar"],
        Key::Sending => ["Sending…", "Envoi…", "Отправка…", "Enviando…"],
        Key::NotSent => ["Not sent", "Non envoyé", "Не отправлено", "Não enviado"],
        Key::Remove => ["Remove", "Supprimer", "Удалить", "Remover"],
        Key::You => ["You:", "Vous\u{a0}:", "Вы:", "Você:"],
        Key::Advisor => ["Advisor", "Conseiller", "Оператор", "Atendente"],
        Key::SomeoneTyping => [
            "Someone is typing…",
            "Quelqu’un écrit…",
            "Вам пишут…",
            "Alguém está digitando…",
        ],
        Key::Connecting => ["Connecting…", "Connexion…", "Подключение…", "Conectando…"],
        Key::Reconnecting => [
            "Connection lost. Reconnecting…",
            "Connexion perdue. Reconnexion…",
            "Соединение потеряно. Переподключаемся…",
            "Conexão perdida. Reconectando…",
        ],
        Key::ServerDown => [
            "Our chat server is unavailable right now. Your messages will be sent as soon as it is back.",
            "Notre serveur de discussion est indisponible pour le moment. Vos messages seront envoyés dès son retour.",
            "Сервер чата сейчас недоступен. Ваши сообщения будут отправлены, как только он заработает.",
            "Nosso servidor de chat está indisponível no momento. Suas mensagens serão enviadas assim que ele voltar.",
        ],
        Key::Offline => [
            "You are offline. Messages will be sent when you’re back online.",
            "Vous êtes hors ligne. Les messages seront envoyés dès votre retour en ligne.",
            "Нет подключения к интернету. Сообщения будут отправлены, когда связь восстановится.",
            "Você está sem conexão. As mensagens serão enviadas quando você voltar a ficar online.",
        ],
        Key::Refused => [
            "Chat is not available on this page.",
            "La discussion n’est pas disponible sur cette page.",
            "Чат недоступен на этой странице.",
            "O chat não está disponível nesta página.",
        ],
        Key::RetryNow => [
            "Retry now",
            "Réessayer maintenant",
            "Повторить сейчас",
            "Tentar agora",
        ],
        Key::Away => [
            "Nobody is available right now. Leave a message and we will get back to you.",
            "Personne n’est disponible pour le moment. Laissez un message, nous vous répondrons.",
            "Сейчас никого нет на месте. Оставьте сообщение, и мы вам ответим.",
            "Ninguém está disponível agora. Deixe uma mensagem e responderemos em breve.",
        ],
        Key::Closed => [
            "This conversation was closed. Write to start a new one.",
            "Cette conversation est terminée. Écrivez pour en commencer une nouvelle.",
            "Этот разговор завершён. Напишите, чтобы начать новый.",
            "Esta conversa foi encerrada. Escreva para iniciar uma nova.",
        ],
    }
}

/// Appends the decimal digits of `n`, the widget's stand-in for `n.to_string()`.
pub fn push_u32(out: &mut String, n: u32) {
    // Most significant digit first by recursion (at most ten deep) rather than through a digit
    // buffer, whose indexing and slicing left bounds checks and panic locations in the wasm.
    if n >= 10 {
        push_u32(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// The plural form a count takes, as CLDR names them (only the ones these four languages use).
/// The values are the forms' row offsets in a counted sentence's `PIECES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plural {
    /// 1 (and 0 in French and Portuguese; 21, 31, ... in Russian).
    One = 1,
    /// Russian 2–4, 22–24, ...
    Few = 2,
    /// Everything else.
    Many = 3,
}

/// The plural form of `n` in `locale`.
pub fn plural(locale: Locale, n: u32) -> Plural {
    match locale {
        Locale::En => {
            if n == 1 {
                Plural::One
            } else {
                Plural::Many
            }
        }
        // CLDR: French and (Brazilian) Portuguese treat 0 like 1.
        Locale::Fr | Locale::Pt => {
            if n <= 1 {
                Plural::One
            } else {
                Plural::Many
            }
        }
        Locale::Ru => {
            let (units, tens) = (n % 10, n % 100);
            if units == 1 && tens != 11 {
                Plural::One
            } else if (2..=4).contains(&units) && !(12..=14).contains(&tens) {
                Plural::Few
            } else {
                Plural::Many
            }
        }
    }
}

/// Builds the sentence whose pieces start at row `first` of `TEXTS` for `n` in `locale`.
/// Tables rather than code per language: one call site instead of four keeps the wasm small.
fn counted(locale: Locale, n: u32, first: usize) -> String {
    let mut out = String::from(piece(locale, first));
    push_u32(&mut out, n);
    out.push_str(piece(locale, first + plural(locale, n) as usize));
    out.push_str(piece(locale, first + 4));
    out
}

fn named(locale: Locale, name: &str, first: usize) -> String {
    let mut out = String::from(piece(locale, first));
    out.push_str(name);
    out.push_str(piece(locale, first + 1));
    out
}

/// The pieces of the sentences with a count or a name, rows of [en, fr, ru, pt] like `row`'s:
/// a sentence with a count takes five rows from its first (the text before the number, the
/// word after it in the plural forms one, few and many, the text after that), one with a name
/// two (the text before and after it). Packed into `TEXTS` after the keys' rows.
const PIECES: [[&str; 4]; 24] = [
    // QUEUE_POSITION
    [
        "You are number ",
        "Vous êtes numéro ",
        "Ваш номер в очереди: ",
        "Você é o número ",
    ],
    ["", "", "", ""],
    ["", "", "", ""],
    ["", "", "", ""],
    [" in line.", " dans la file d’attente.", ".", " na fila."],
    // WAIT_MINUTES
    [
        "Estimated wait: about ",
        "Attente estimée\u{a0}: environ ",
        "Примерное время ожидания: ",
        "Espera estimada: cerca de ",
    ],
    [" minute", "\u{a0}minute", " минута", " minuto"],
    [" minutes", "\u{a0}minutes", " минуты", " minutos"],
    [" minutes", "\u{a0}minutes", " минут", " minutos"],
    [".", ".", ".", "."],
    // RETRY_IN
    // "через" takes the accusative: 1 секунду, 2 секунды, 5 секунд.
    [
        "Trying again in ",
        "Nouvel essai dans ",
        "Новая попытка через ",
        "Nova tentativa em ",
    ],
    [" second", "\u{a0}seconde", " секунду", " segundo"],
    [" seconds", "\u{a0}secondes", " секунды", " segundos"],
    [" seconds", "\u{a0}secondes", " секунд", " segundos"],
    [".", ".", ".", "."],
    // UNREAD
    ["", "", "", ""],
    [
        " unread message",
        " message non lu",
        " непрочитанное сообщение",
        " mensagem não lida",
    ],
    [
        " unread messages",
        " messages non lus",
        " непрочитанных сообщения",
        " mensagens não lidas",
    ],
    [
        " unread messages",
        " messages non lus",
        " непрочитанных сообщений",
        " mensagens não lidas",
    ],
    ["", "", "", ""],
    // AGENT_JOINED
    // Worded so that no language needs the advisor's gender.
    ["", "", "Вам отвечает ", ""],
    [
        " joined the conversation.",
        " a rejoint la conversation.",
        ".",
        " entrou na conversa.",
    ],
    // AGENT_TYPING
    ["", "", "", ""],
    [" is typing…", " écrit…", " печатает…", " está digitando…"],
];

// The first row of each sentence in `TEXTS`.
const QUEUE_POSITION: usize = KEYS.len();
const WAIT_MINUTES: usize = KEYS.len() + 5;
const RETRY_IN: usize = KEYS.len() + 10;
const UNREAD: usize = KEYS.len() + 15;
const AGENT_JOINED: usize = KEYS.len() + 20;
const AGENT_TYPING: usize = KEYS.len() + 22;

/// "You are number 3 in line."
pub fn queue_position(locale: Locale, position: u32) -> String {
    counted(locale, position, QUEUE_POSITION)
}

/// "Estimated wait: about 4 minutes."
pub fn wait_minutes(locale: Locale, minutes: u32) -> String {
    counted(locale, minutes, WAIT_MINUTES)
}

/// "Trying again in 5 seconds."
pub fn retry_in(locale: Locale, seconds: u32) -> String {
    counted(locale, seconds, RETRY_IN)
}

/// "2 unread messages", for the launcher's accessible name.
pub fn unread(locale: Locale, count: u32) -> String {
    counted(locale, count, UNREAD)
}

/// "Ada joined the conversation."
pub fn agent_joined(locale: Locale, name: &str) -> String {
    named(locale, name, AGENT_JOINED)
}

/// "Ada is typing…", or the anonymous form when the name is unknown (empty).
pub fn agent_typing(locale: Locale, name: &str) -> String {
    if name.is_empty() {
        return text(locale, Key::SomeoneTyping).to_owned();
    }
    named(locale, name, AGENT_TYPING)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCALES: [Locale; 4] = [Locale::En, Locale::Fr, Locale::Ru, Locale::Pt];

    #[test]
    fn packed_texts_come_back_whole_at_both_ends_of_the_table() {
        assert_eq!(text(Locale::En, Key::OpenChat), "Chat with us");
        assert_eq!(text(Locale::Fr, Key::OpenChat), "Discuter avec nous");
        assert_eq!(text(Locale::Ru, Key::You), "Вы:");
        assert_eq!(
            text(Locale::Pt, Key::Closed),
            "Esta conversa foi encerrada. Escreva para iniciar uma nova."
        );
        assert_eq!(agent_typing(Locale::Pt, "Ada"), "Ada está digitando…");
    }

    #[test]
    fn every_sentence_reads_right_in_every_language() {
        let cases = [
            (
                queue_position(Locale::Fr, 2),
                "Vous êtes numéro 2 dans la file d’attente.",
            ),
            (queue_position(Locale::Pt, 1), "Você é o número 1 na fila."),
            (
                wait_minutes(Locale::Fr, 1),
                "Attente estimée\u{a0}: environ 1\u{a0}minute.",
            ),
            (
                wait_minutes(Locale::Pt, 2),
                "Espera estimada: cerca de 2 minutos.",
            ),
            (retry_in(Locale::En, 1), "Trying again in 1 second."),
            (retry_in(Locale::Fr, 1), "Nouvel essai dans 1\u{a0}seconde."),
            (unread(Locale::Fr, 1), "1 message non lu"),
            (unread(Locale::Fr, 2), "2 messages non lus"),
            (unread(Locale::Ru, 1), "1 непрочитанное сообщение"),
            (unread(Locale::Pt, 1), "1 mensagem não lida"),
            (
                agent_joined(Locale::En, "Ada"),
                "Ada joined the conversation.",
            ),
            (agent_joined(Locale::Ru, "Ada"), "Вам отвечает Ada."),
            (agent_joined(Locale::Pt, "Ada"), "Ada entrou na conversa."),
            (agent_typing(Locale::Fr, "Ada"), "Ada écrit…"),
            (agent_typing(Locale::Ru, "Ada"), "Ada печатает…"),
            (agent_typing(Locale::Fr, ""), "Quelqu’un écrit…"),
        ];
        for (built, expected) in cases {
            assert_eq!(built, expected);
        }
    }

    #[test]
    fn sentence_tables_follow_the_locale_order() {
        assert_eq!(LOCALES.map(|l| l as usize), [0, 1, 2, 3]);
        assert!(wait_minutes(Locale::Pt, 2).starts_with("Espera"));
        assert!(retry_in(Locale::Fr, 2).starts_with("Nouvel"));
    }

    #[test]
    fn every_key_has_a_text_in_every_language() {
        for locale in LOCALES {
            for key in KEYS {
                assert!(!text(locale, key).trim().is_empty(), "{locale:?} {key:?}");
            }
        }
    }

    #[test]
    fn non_english_texts_are_translated_where_the_words_differ() {
        for key in [Key::Send, Key::Closed, Key::ServerDown, Key::RetryNow] {
            for locale in [Locale::Fr, Locale::Ru, Locale::Pt] {
                assert_ne!(
                    text(locale, key),
                    text(Locale::En, key),
                    "{locale:?} {key:?}"
                );
            }
        }
    }

    #[test]
    fn digits_are_written_without_the_formatting_machinery() {
        for n in [0, 7, 10, 42, 1_000, 4_000_000_000, u32::MAX] {
            let mut out = String::from(">");
            push_u32(&mut out, n);
            assert_eq!(out, format!(">{n}"));
        }
    }

    #[test]
    fn russian_counts_take_one_few_or_many() {
        let form = |n| plural(Locale::Ru, n);
        for n in [1, 21, 101, 1_001] {
            assert_eq!(form(n), Plural::One, "{n}");
        }
        for n in [2, 3, 4, 22, 34, 102] {
            assert_eq!(form(n), Plural::Few, "{n}");
        }
        for n in [0, 5, 11, 12, 13, 14, 19, 20, 25, 111, 112] {
            assert_eq!(form(n), Plural::Many, "{n}");
        }
    }

    #[test]
    fn french_and_portuguese_treat_zero_as_singular_but_english_does_not() {
        assert_eq!(plural(Locale::Fr, 0), Plural::One);
        assert_eq!(plural(Locale::Pt, 0), Plural::One);
        assert_eq!(plural(Locale::En, 0), Plural::Many);
        assert_eq!(plural(Locale::En, 1), Plural::One);
        assert_eq!(plural(Locale::Fr, 2), Plural::Many);
    }

    #[test]
    fn minutes_and_seconds_agree_with_their_number() {
        assert_eq!(
            wait_minutes(Locale::En, 1),
            "Estimated wait: about 1 minute."
        );
        assert_eq!(
            wait_minutes(Locale::En, 4),
            "Estimated wait: about 4 minutes."
        );
        assert_eq!(
            wait_minutes(Locale::Ru, 1),
            "Примерное время ожидания: 1 минута."
        );
        assert_eq!(
            wait_minutes(Locale::Ru, 3),
            "Примерное время ожидания: 3 минуты."
        );
        assert_eq!(
            wait_minutes(Locale::Ru, 11),
            "Примерное время ожидания: 11 минут."
        );
        assert_eq!(retry_in(Locale::Ru, 21), "Новая попытка через 21 секунду.");
        assert_eq!(retry_in(Locale::Ru, 2), "Новая попытка через 2 секунды.");
        assert_eq!(retry_in(Locale::Ru, 5), "Новая попытка через 5 секунд.");
        assert_eq!(retry_in(Locale::Pt, 1), "Nova tentativa em 1 segundo.");
        assert_eq!(
            retry_in(Locale::Fr, 30),
            "Nouvel essai dans 30\u{a0}secondes."
        );
    }

    #[test]
    fn the_unread_label_counts_messages() {
        assert_eq!(unread(Locale::En, 1), "1 unread message");
        assert_eq!(unread(Locale::En, 12), "12 unread messages");
        assert_eq!(unread(Locale::Ru, 2), "2 непрочитанных сообщения");
        assert_eq!(unread(Locale::Ru, 5), "5 непрочитанных сообщений");
        assert_eq!(unread(Locale::Pt, 3), "3 mensagens não lidas");
    }

    #[test]
    fn the_queue_position_and_names_are_spliced_in() {
        assert_eq!(queue_position(Locale::En, 3), "You are number 3 in line.");
        assert_eq!(queue_position(Locale::Ru, 12), "Ваш номер в очереди: 12.");
        assert_eq!(
            agent_joined(Locale::Fr, "Ada"),
            "Ada a rejoint la conversation."
        );
        assert_eq!(agent_typing(Locale::En, "Ada"), "Ada is typing…");
        assert_eq!(agent_typing(Locale::Ru, ""), "Вам пишут…");
    }
}
