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
    /// Routing status of a closed conversation.
    Closed,
}

/// The string for `key` in `locale`.
pub fn text(locale: Locale, key: Key) -> &'static str {
    // One row per key, columns en, fr, ru, pt: a missing translation does not compile.
    let [en, fr, ru, pt] = match key {
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
    };
    match locale {
        Locale::En => en,
        Locale::Fr => fr,
        Locale::Ru => ru,
        Locale::Pt => pt,
    }
}

/// Appends the decimal digits of `n`, the widget's stand-in for `n.to_string()`.
pub fn push_u32(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in digits[..len].iter().rev() {
        out.push(digit as char);
    }
}

/// The plural form a count takes, as CLDR names them (only the ones these four languages use).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plural {
    /// 1 (and 0 in French and Portuguese; 21, 31, ... in Russian).
    One,
    /// Russian 2–4, 22–24, ...
    Few,
    /// Everything else.
    Many,
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

/// A sentence with a count, per language (in [`Locale`] order): the text before the number,
/// the word after it in the plural forms one, few and many, and the text after that.
type Counted = [(&'static str, [&'static str; 3], &'static str); 4];

/// A sentence with a name, per language: the text before and after it.
type Named = [(&'static str, &'static str); 4];

/// Builds the sentence of `table` for `n` in `locale`. Tables rather than code per language:
/// one call site instead of four keeps the wasm small.
fn counted(locale: Locale, n: u32, table: &Counted) -> String {
    let (before, [one, few, many], after) = table[locale as usize];
    let mut out = String::with_capacity(before.len() + many.len() + after.len() + 12);
    out.push_str(before);
    push_u32(&mut out, n);
    out.push_str(match plural(locale, n) {
        Plural::One => one,
        Plural::Few => few,
        Plural::Many => many,
    });
    out.push_str(after);
    out
}

fn named(locale: Locale, name: &str, table: &Named) -> String {
    let (before, after) = table[locale as usize];
    let mut out = String::with_capacity(before.len() + name.len() + after.len());
    out.push_str(before);
    out.push_str(name);
    out.push_str(after);
    out
}

const QUEUE_POSITION: Counted = [
    ("You are number ", ["", "", ""], " in line."),
    (
        "Vous êtes numéro ",
        ["", "", ""],
        " dans la file d’attente.",
    ),
    ("Ваш номер в очереди: ", ["", "", ""], "."),
    ("Você é o número ", ["", "", ""], " na fila."),
];

const WAIT_MINUTES: Counted = [
    (
        "Estimated wait: about ",
        [" minute", " minutes", " minutes"],
        ".",
    ),
    (
        "Attente estimée\u{a0}: environ ",
        ["\u{a0}minute", "\u{a0}minutes", "\u{a0}minutes"],
        ".",
    ),
    (
        "Примерное время ожидания: ",
        [" минута", " минуты", " минут"],
        ".",
    ),
    (
        "Espera estimada: cerca de ",
        [" minuto", " minutos", " minutos"],
        ".",
    ),
];

const RETRY_IN: Counted = [
    ("Trying again in ", [" second", " seconds", " seconds"], "."),
    (
        "Nouvel essai dans ",
        ["\u{a0}seconde", "\u{a0}secondes", "\u{a0}secondes"],
        ".",
    ),
    // "через" takes the accusative: 1 секунду, 2 секунды, 5 секунд.
    (
        "Новая попытка через ",
        [" секунду", " секунды", " секунд"],
        ".",
    ),
    (
        "Nova tentativa em ",
        [" segundo", " segundos", " segundos"],
        ".",
    ),
];

const UNREAD: Counted = [
    (
        "",
        [" unread message", " unread messages", " unread messages"],
        "",
    ),
    (
        "",
        [" message non lu", " messages non lus", " messages non lus"],
        "",
    ),
    (
        "",
        [
            " непрочитанное сообщение",
            " непрочитанных сообщения",
            " непрочитанных сообщений",
        ],
        "",
    ),
    (
        "",
        [
            " mensagem não lida",
            " mensagens não lidas",
            " mensagens não lidas",
        ],
        "",
    ),
];

/// Worded so that no language needs the advisor's gender.
const AGENT_JOINED: Named = [
    ("", " joined the conversation."),
    ("", " a rejoint la conversation."),
    ("Вам отвечает ", "."),
    ("", " entrou na conversa."),
];

const AGENT_TYPING: Named = [
    ("", " is typing…"),
    ("", " écrit…"),
    ("", " печатает…"),
    ("", " está digitando…"),
];

/// "You are number 3 in line."
pub fn queue_position(locale: Locale, position: u32) -> String {
    counted(locale, position, &QUEUE_POSITION)
}

/// "Estimated wait: about 4 minutes."
pub fn wait_minutes(locale: Locale, minutes: u32) -> String {
    counted(locale, minutes, &WAIT_MINUTES)
}

/// "Trying again in 5 seconds."
pub fn retry_in(locale: Locale, seconds: u32) -> String {
    counted(locale, seconds, &RETRY_IN)
}

/// "2 unread messages", for the launcher's accessible name.
pub fn unread(locale: Locale, count: u32) -> String {
    counted(locale, count, &UNREAD)
}

/// "Ada joined the conversation."
pub fn agent_joined(locale: Locale, name: &str) -> String {
    named(locale, name, &AGENT_JOINED)
}

/// "Ada is typing…", or the anonymous form when the name is unknown (empty).
pub fn agent_typing(locale: Locale, name: &str) -> String {
    if name.is_empty() {
        return text(locale, Key::SomeoneTyping).to_owned();
    }
    named(locale, name, &AGENT_TYPING)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCALES: [Locale; 4] = [Locale::En, Locale::Fr, Locale::Ru, Locale::Pt];
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
