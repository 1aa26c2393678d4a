//! The widget's text packs: one file per language, written from the widget's own catalogue.
//!
//! `widget/src/i18n/catalog.rs` holds every text of the visitor widget in its four languages;
//! the wasm does not, it fetches the pack of the language it shows (see `widget/src/i18n/`).
//! This writes those packs, `npm/texts/<language>.txt`, each language's rows one per line, in
//! the order the widget reads them. The npm package ships them as they are; the loader's build
//! (`widget/loader/build.mjs`) gives them content-hashed names in `widget/dist/`.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};

// The catalogue, the very file the widget compiles (it needs nothing but `core`).
#[allow(dead_code)]
#[path = "../../widget/src/i18n/catalog.rs"]
mod catalog;

/// The pack of `catalog::LANGUAGES[language]`: its rows, one per line.
fn pack(language: usize) -> String {
    catalog::rows(language).collect::<Vec<_>>().join("\n")
}

/// Writes every language's pack into `dir` (emptied first), as `<language>.txt`.
pub fn write(dir: &Path) -> Result<()> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    for (language, tag) in catalog::LANGUAGES.iter().enumerate() {
        let path = dir.join(format!("{tag}.txt"));
        fs::write(&path, pack(language)).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pack_has_one_line_per_row_in_the_widget_s_order() {
        for language in 0..catalog::LANGUAGES.len() {
            let pack = pack(language);
            assert_eq!(pack.split('\n').count(), catalog::ROWS, "{language}");
            assert!(!pack.ends_with('\n'));
        }
        let english = pack(0);
        let first = english.lines().next().unwrap();
        assert_eq!(first, "Chat with us");
        assert!(pack(2).contains("Написать нам"));
    }

    #[test]
    fn writing_replaces_what_the_directory_held() {
        let dir = std::env::temp_dir().join(format!("natter-texts-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("de.txt"), "stale").unwrap();
        write(&dir).unwrap();
        let mut names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["en.txt", "fr.txt", "pt.txt", "ru.txt"]);
        assert_eq!(fs::read_to_string(dir.join("fr.txt")).unwrap(), pack(1));
        fs::remove_dir_all(&dir).unwrap();
    }
}
