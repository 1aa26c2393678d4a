//! The words the widget shows, in the language it shows: a fetched pack of texts.
//!
//! The texts themselves are written in [`catalog`], all four languages side by side, and leave
//! it as one pack per language, which the session fetches for the visitor's language
//! (`session.rs`) and reads with [`Texts::parse`]. What stays in the wasm is how to use them:
//! which row is which ([`Key`], the pieces of a sentence), the plural rules, and assembling the
//! sentences with a number or a name.
//!
//! Pure and native-testable. Deliberately free of `format!` and `to_string()` on numbers: the
//! formatting machinery would cost the widget about 10 KB of gzipped wasm, so the few strings
//! with a number or a name are assembled by hand with [`push_u32`] and `push_str`, and plurals are
//! picked with a per-language rule ([`plural`]).

// Its tables are read by xtask, which writes the packs, and by the tests; the widget itself
// only takes the row numbers.
#[allow(dead_code)]
mod catalog;

pub use self::catalog::Key;
use self::catalog::{
    AGENT_JOINED, AGENT_TYPING, QUEUE_POSITION, RETRY_IN, ROWS, UNREAD, WAIT_MINUTES,
};
use crate::model::Locale;
use crate::prelude::*;

/// One language's texts: its pack, rows one per line (as `catalog` writes them).
///
/// Rows are found by walking the pack's bytes at each look-up ([`Texts::piece`]) rather than
/// through a table of where each row ends, built at parse: the pack is about 1 KB and a render
/// looks up some twenty rows, and the table (its `Vec<usize>`, its growth, its look-ups) took
/// 14 B more of gzipped wasm. (`str::split` and its `memchr` would cost ~0.4 KB gzip.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Texts {
    locale: Locale,
    pack: String,
}

impl Texts {
    /// The texts of `locale` in `pack`; `None` unless it has exactly the rows this version
    /// reads.
    pub fn parse(locale: Locale, pack: String) -> Option<Texts> {
        let rows = 1 + pack.bytes().filter(|&byte| byte == b'\n').count();
        (rows == ROWS).then_some(Texts { locale, pack })
    }

    /// Their language.
    pub fn locale(&self) -> Locale {
        self.locale
    }

    /// The string for `key`.
    pub fn text(&self, key: Key) -> &str {
        self.piece(key as usize)
    }

    /// Row `row`: a key's text, or a piece of a sentence.
    fn piece(&self, row: usize) -> &str {
        let (mut start, mut line) = (0, 0);
        for (at, byte) in self.pack.bytes().enumerate() {
            if byte == b'\n' {
                if line == row {
                    return self.pack.get(start..at).unwrap_or_default();
                }
                line += 1;
                start = at + 1;
            }
        }
        if line == row {
            self.pack.get(start..).unwrap_or_default()
        } else {
            ""
        }
    }

    /// Builds the sentence whose pieces start at row `first` for `n`. Tables rather than code
    /// per language: one call site instead of four keeps the wasm small.
    fn counted(&self, n: u32, first: usize) -> String {
        let mut out = String::from(self.piece(first));
        push_u32(&mut out, n);
        out.push_str(self.piece(first + plural(self.locale, n) as usize));
        out.push_str(self.piece(first + 4));
        out
    }

    fn named(&self, name: &str, first: usize) -> String {
        let mut out = String::from(self.piece(first));
        out.push_str(name);
        out.push_str(self.piece(first + 1));
        out
    }

    /// "You are number 3 in line."
    pub fn queue_position(&self, position: u32) -> String {
        self.counted(position, QUEUE_POSITION)
    }

    /// "Estimated wait: about 4 minutes."
    pub fn wait_minutes(&self, minutes: u32) -> String {
        self.counted(minutes, WAIT_MINUTES)
    }

    /// "Trying again in 5 seconds."
    pub fn retry_in(&self, seconds: u32) -> String {
        self.counted(seconds, RETRY_IN)
    }

    /// "2 unread messages", for the launcher's accessible name.
    pub fn unread(&self, count: u32) -> String {
        self.counted(count, UNREAD)
    }

    /// "Ada joined the conversation."
    pub fn agent_joined(&self, name: &str) -> String {
        self.named(name, AGENT_JOINED)
    }

    /// "Ada is typing…", or the anonymous form when the name is unknown (empty).
    pub fn agent_typing(&self, name: &str) -> String {
        if name.is_empty() {
            return self.text(Key::SomeoneTyping).to_owned();
        }
        self.named(name, AGENT_TYPING)
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

/// The pack of `locale`, as `cargo xtask build-widget` writes it (for the tests).
#[cfg(test)]
pub(crate) fn pack_of(locale: Locale) -> String {
    catalog::rows(locale as usize)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::catalog::{KEYS, LANGUAGES, rows};
    use super::*;

    const LOCALES: [Locale; 4] = [Locale::En, Locale::Fr, Locale::Ru, Locale::Pt];

    fn texts(locale: Locale) -> Texts {
        Texts::parse(locale, pack_of(locale)).unwrap()
    }

    fn text(locale: Locale, key: Key) -> String {
        texts(locale).text(key).to_owned()
    }

    #[test]
    fn packs_are_named_in_locale_order_and_read_back_whole() {
        for locale in LOCALES {
            assert_eq!(LANGUAGES[locale as usize], locale.tag());
            let texts = texts(locale);
            assert_eq!(texts.locale(), locale);
            assert_eq!(texts.pack.lines().count(), ROWS);
            assert_eq!(texts.piece(ROWS - 1), rows(locale as usize).last().unwrap());
            assert_eq!(texts.piece(ROWS), "");
        }
    }

    #[test]
    fn a_pack_with_other_rows_than_this_version_reads_is_refused() {
        let english = pack_of(Locale::En);
        assert!(Texts::parse(Locale::En, String::new()).is_none());
        assert!(Texts::parse(Locale::En, english.clone() + "\nextra").is_none());
        let (shorter, _) = english.rsplit_once('\n').unwrap();
        assert!(Texts::parse(Locale::En, shorter.to_owned()).is_none());
    }

    #[test]
    fn packed_texts_come_back_whole_at_both_ends_of_the_table() {
        assert_eq!(text(Locale::En, Key::OpenChat), "Chat with us");
        assert_eq!(text(Locale::Fr, Key::OpenChat), "Discuter avec nous");
        assert_eq!(text(Locale::Ru, Key::You), "Вы:");
        assert_eq!(
            text(Locale::Pt, Key::Closed),
            "Esta conversa foi encerrada. Escreva para iniciar uma nova."
        );
        assert_eq!(texts(Locale::Pt).agent_typing("Ada"), "Ada está digitando…");
    }

    #[test]
    fn every_sentence_reads_right_in_every_language() {
        let cases = [
            (
                texts(Locale::Fr).queue_position(2),
                "Vous êtes numéro 2 dans la file d’attente.",
            ),
            (
                texts(Locale::Pt).queue_position(1),
                "Você é o número 1 na fila.",
            ),
            (
                texts(Locale::Fr).wait_minutes(1),
                "Attente estimée\u{a0}: environ 1\u{a0}minute.",
            ),
            (
                texts(Locale::Pt).wait_minutes(2),
                "Espera estimada: cerca de 2 minutos.",
            ),
            (texts(Locale::En).retry_in(1), "Trying again in 1 second."),
            (
                texts(Locale::Fr).retry_in(1),
                "Nouvel essai dans 1\u{a0}seconde.",
            ),
            (texts(Locale::Fr).unread(1), "1 message non lu"),
            (texts(Locale::Fr).unread(2), "2 messages non lus"),
            (texts(Locale::Ru).unread(1), "1 непрочитанное сообщение"),
            (texts(Locale::Pt).unread(1), "1 mensagem não lida"),
            (
                texts(Locale::En).agent_joined("Ada"),
                "Ada joined the conversation.",
            ),
            (texts(Locale::Ru).agent_joined("Ada"), "Вам отвечает Ada."),
            (
                texts(Locale::Pt).agent_joined("Ada"),
                "Ada entrou na conversa.",
            ),
            (texts(Locale::Fr).agent_typing("Ada"), "Ada écrit…"),
            (texts(Locale::Ru).agent_typing("Ada"), "Ada печатает…"),
            (texts(Locale::Fr).agent_typing(""), "Quelqu’un écrit…"),
        ];
        for (built, expected) in cases {
            assert_eq!(built, expected);
        }
    }

    #[test]
    fn sentence_tables_follow_the_locale_order() {
        assert_eq!(LOCALES.map(|l| l as usize), [0, 1, 2, 3]);
        assert!(texts(Locale::Pt).wait_minutes(2).starts_with("Espera"));
        assert!(texts(Locale::Fr).retry_in(2).starts_with("Nouvel"));
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
            texts(Locale::En).wait_minutes(1),
            "Estimated wait: about 1 minute."
        );
        assert_eq!(
            texts(Locale::En).wait_minutes(4),
            "Estimated wait: about 4 minutes."
        );
        assert_eq!(
            texts(Locale::Ru).wait_minutes(1),
            "Примерное время ожидания: 1 минута."
        );
        assert_eq!(
            texts(Locale::Ru).wait_minutes(3),
            "Примерное время ожидания: 3 минуты."
        );
        assert_eq!(
            texts(Locale::Ru).wait_minutes(11),
            "Примерное время ожидания: 11 минут."
        );
        assert_eq!(
            texts(Locale::Ru).retry_in(21),
            "Новая попытка через 21 секунду."
        );
        assert_eq!(
            texts(Locale::Ru).retry_in(2),
            "Новая попытка через 2 секунды."
        );
        assert_eq!(
            texts(Locale::Ru).retry_in(5),
            "Новая попытка через 5 секунд."
        );
        assert_eq!(
            texts(Locale::Pt).retry_in(1),
            "Nova tentativa em 1 segundo."
        );
        assert_eq!(
            texts(Locale::Fr).retry_in(30),
            "Nouvel essai dans 30\u{a0}secondes."
        );
    }

    #[test]
    fn the_unread_label_counts_messages() {
        assert_eq!(texts(Locale::En).unread(1), "1 unread message");
        assert_eq!(texts(Locale::En).unread(12), "12 unread messages");
        assert_eq!(texts(Locale::Ru).unread(2), "2 непрочитанных сообщения");
        assert_eq!(texts(Locale::Ru).unread(5), "5 непрочитанных сообщений");
        assert_eq!(texts(Locale::Pt).unread(3), "3 mensagens não lidas");
    }

    #[test]
    fn the_queue_position_and_names_are_spliced_in() {
        assert_eq!(
            texts(Locale::En).queue_position(3),
            "You are number 3 in line."
        );
        assert_eq!(
            texts(Locale::Ru).queue_position(12),
            "Ваш номер в очереди: 12."
        );
        assert_eq!(
            texts(Locale::Fr).agent_joined("Ada"),
            "Ada a rejoint la conversation."
        );
        assert_eq!(texts(Locale::En).agent_typing("Ada"), "Ada is typing…");
        assert_eq!(texts(Locale::Ru).agent_typing(""), "Вам пишут…");
    }
}
