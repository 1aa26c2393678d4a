//! Every word the widget shows, in English, French, Russian and Portuguese: the source of the
//! text packs.
//!
//! The wasm does not carry these tables. A visitor reads one language, so each language is a
//! pack of its own, fetched for the language shown (`super::Texts`): the four in the wasm cost
//! first open 1.7 KB gzip, the largest pack alone (Russian) is 0.6 KB. `cargo xtask
//! build-widget` includes this file (with `#[path]`, which is why it needs nothing but `core`)
//! and writes each language's [`rows`], one per line, as `npm/texts/<language>.txt`; the
//! loader's build gives them content-hashed names in `widget/dist/`. Writing the texts here, as
//! Rust, keeps a missing translation a compile error.

/// The languages, in `Locale` order (checked by a test): a pack's name and `lang`.
pub const LANGUAGES: [&str; 4] = ["en", "fr", "ru", "pt"];

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

/// Every key, in declaration order (checked below: `KEYS[k as usize] == k`), so that [`rows`]
/// can walk them.
pub const KEYS: [Key; 21] = [
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

/// The pieces of the sentences with a count or a name, rows of [en, fr, ru, pt] like `row`'s:
/// a sentence with a count takes five rows from its first (the text before the number, the
/// word after it in the plural forms one, few and many, the text after that), one with a name
/// two (the text before and after it). A pack holds them after the keys' rows.
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

// The first row of each sentence in a pack.
pub const QUEUE_POSITION: usize = KEYS.len();
pub const WAIT_MINUTES: usize = KEYS.len() + 5;
pub const RETRY_IN: usize = KEYS.len() + 10;
pub const UNREAD: usize = KEYS.len() + 15;
pub const AGENT_JOINED: usize = KEYS.len() + 20;
pub const AGENT_TYPING: usize = KEYS.len() + 22;

/// How many rows a pack has: one per key, then the `PIECES`.
pub const ROWS: usize = KEYS.len() + PIECES.len();

/// The rows of the pack of `LANGUAGES[language]`, in order: each key's text, then each piece.
pub fn rows(language: usize) -> impl Iterator<Item = &'static str> {
    let keys = KEYS.iter().map(move |&key| texts_of(key)[language]);
    keys.chain(PIECES.iter().map(move |row| row[language]))
}

// A pack is its rows, one per line: no text may hold a line break.
const _: () = {
    let mut key = 0;
    while key < KEYS.len() {
        let texts = texts_of(KEYS[key]);
        let mut language = 0;
        while language < 4 {
            assert!(no_line_break(texts[language]), "a text holds a line break");
            language += 1;
        }
        key += 1;
    }
    let mut row = 0;
    while row < PIECES.len() {
        let mut language = 0;
        while language < 4 {
            assert!(
                no_line_break(PIECES[row][language]),
                "a text holds a line break"
            );
            language += 1;
        }
        row += 1;
    }
};

const fn no_line_break(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'\n' || bytes[at] == b'\r' {
            return false;
        }
        at += 1;
    }
    true
}
