//! Which generator a folder comes from and what its site configuration declares. Given a site
//! (a folder with `content/` and `hugo.toml` / `config.toml`) or its `content/` folder, import
//! reads the configuration beside it: the generator (Hugo writes `baseURL`, Zola `base_url`),
//! the taxonomies it declares and its params (for Hugo's `param` shortcode).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::content::frontmatter::Rules;
use crate::content::paths::Generator;
use crate::error::{Error, Result};

/// A folder to import, read.
#[derive(Clone, Debug)]
pub struct Site {
    /// The folder of Markdown files.
    pub content: PathBuf,
    pub rules: Rules,
    /// The configuration file found, if any.
    pub config: Option<PathBuf>,
    /// Site params (`[params]` for Hugo, `[extra]` for Zola).
    pub params: Map<String, Value>,
    pub languages: Languages,
}

/// The languages a site declares: files named `about.fr.md` are translations.
#[derive(Clone, Debug)]
pub struct Languages {
    /// Hugo's `defaultContentLanguage`, Zola's `default_language` (`en` when unset).
    pub default: String,
    /// The other declared languages (`[languages.fr]`).
    pub others: Vec<String>,
}

impl Default for Languages {
    fn default() -> Languages {
        Languages {
            default: "en".into(),
            others: vec![],
        }
    }
}

impl Languages {
    fn of(generator: Generator, map: &Map<String, Value>) -> Languages {
        let key = match generator {
            Generator::Hugo => "defaultContentLanguage",
            Generator::Zola => "default_language",
        };
        let default = map
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("en")
            .to_owned();
        let others = match map.get("languages") {
            Some(Value::Object(l)) => l.keys().filter(|k| **k != default).cloned().collect(),
            _ => vec![],
        };
        Languages { default, others }
    }

    /// A Markdown file's name without a default-language suffix (`about.en.md` →
    /// `about.md`), or `Err(lang)` for a translation into another declared language.
    pub fn logical(&self, rel: &str) -> Result<String, String> {
        let Some(base) = rel.strip_suffix(".md") else {
            return Ok(rel.to_owned());
        };
        match base.rsplit_once('.') {
            Some((name, lang)) if !name.ends_with('/') && lang == self.default => {
                Ok(format!("{name}.md"))
            }
            Some((name, lang)) if !name.ends_with('/') && self.others.iter().any(|o| o == lang) => {
                Err(lang.to_owned())
            }
            _ => Ok(rel.to_owned()),
        }
    }
}

const CONFIG_NAMES: &[&str] = &[
    "hugo.toml",
    "hugo.yaml",
    "hugo.yml",
    "config.toml",
    "config.yaml",
    "config.yml",
];

fn read_config(path: &Path) -> Result<Map<String, Value>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })?;
    let bad = |m: String| {
        Error::invalid(
            "site configuration",
            format!(
                "{}: {m}; fix it or pass the content folder with --generator",
                path.display()
            ),
        )
    };
    let value: Value = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str::<toml::Table>(&text)
            .map_err(|e| bad(e.message().to_owned()))
            .map(|t| serde_json::to_value(t).unwrap_or_default())?
    } else {
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&text)
            .map_err(|e| bad(e.to_string()))
            .map(|v| serde_json::to_value(v).unwrap_or_default())?
    };
    Ok(match value {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}

/// The configuration beside a content folder: in `dir` when it holds `content/`, else in its
/// parent when `dir` is named `content`.
fn find_config(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let in_dir = |root: &Path| {
        CONFIG_NAMES
            .iter()
            .map(|n| root.join(n))
            .find(|p| p.is_file())
    };
    if dir.join("content").is_dir()
        && let Some(cfg) = in_dir(dir)
    {
        return Some((dir.join("content"), cfg));
    }
    let parent = dir.parent()?;
    in_dir(parent).map(|cfg| (dir.to_owned(), cfg))
}

fn generator_of(config: &Path, map: &Map<String, Value>) -> Generator {
    let name = config.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.starts_with("hugo") && map.contains_key("base_url") {
        Generator::Zola
    } else {
        Generator::Hugo
    }
}

/// Taxonomy keys: Hugo's `[taxonomies] singular = "plural"` (default tags and categories),
/// Zola's `taxonomies = [{ name = "tags" }]`.
fn taxonomies_of(generator: Generator, map: &Map<String, Value>) -> Vec<String> {
    match (generator, map.get("taxonomies")) {
        (Generator::Hugo, Some(Value::Object(t))) => t
            .values()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        (Generator::Zola, Some(Value::Array(list))) => list
            .iter()
            .filter_map(|t| t.get("name").and_then(Value::as_str))
            .map(str::to_owned)
            .collect(),
        _ => Rules::of(generator).taxonomies,
    }
}

/// Reads `dir` (a site or its content folder). `forced` overrides the detected generator.
pub fn detect(dir: &Path, forced: Option<Generator>) -> Result<Site> {
    if !dir.is_dir() {
        return Err(Error::invalid(
            "import folder",
            format!(
                "{} is not a folder; give the site's folder or its content/ folder",
                dir.display()
            ),
        ));
    }
    let Some((content, config)) = find_config(dir) else {
        return Ok(Site {
            content: dir.to_owned(),
            rules: Rules::of(forced.unwrap_or(Generator::Hugo)),
            config: None,
            params: Map::new(),
            languages: Languages::default(),
        });
    };
    let map = read_config(&config)?;
    let generator = forced.unwrap_or_else(|| generator_of(&config, &map));
    let params_key = match generator {
        Generator::Hugo => "params",
        Generator::Zola => "extra",
    };
    let params = match map.get(params_key) {
        Some(Value::Object(p)) => p.clone(),
        _ => Map::new(),
    };
    Ok(Site {
        content,
        rules: Rules {
            generator,
            taxonomies: taxonomies_of(generator, &map),
        },
        config: Some(config),
        params,
        languages: Languages::of(generator, &map),
    })
}
