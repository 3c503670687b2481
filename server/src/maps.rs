//! The maps a match can be played on: the embedded `arena` (2000 × 2000) and `large`
//! (8000 × 8000, for interest management), and the operator's `map_file` as `file`.

use std::collections::BTreeMap;
use std::sync::Arc;

use shared::arena::Arena;

/// The map of matches that name none, when no `map_file` is configured.
pub const DEFAULT: &str = "arena";
/// The name of the map loaded from `map_file`.
pub const FILE: &str = "file";
/// The embedded maps, by name, so one binary deploys.
const BUILTIN: [(&str, &str); 2] = [
    ("arena", include_str!("../maps/arena.json")),
    ("large", include_str!("../maps/large.json")),
];

/// Whether `name` is a map this server can offer (`file` only with a `map_file`).
pub fn exists(name: &str, has_file: bool) -> bool {
    names(has_file).contains(&name)
}

/// Every map name, in order.
pub fn names(has_file: bool) -> Vec<&'static str> {
    let mut names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
    if has_file {
        names.push(FILE);
    }
    names
}

/// The loaded maps by name, and the embedded arena for a name that is not among them.
#[derive(Debug, Clone)]
pub struct Maps {
    by_name: BTreeMap<String, Arc<Arena>>,
    fallback: Arc<Arena>,
}

impl Maps {
    /// The embedded maps, and `file` from `map_file`'s text when given.
    pub fn load(file: Option<&str>) -> Result<Maps, String> {
        let mut by_name = BTreeMap::new();
        for (name, text) in BUILTIN {
            let arena = Arena::from_json(text).map_err(|e| format!("embedded map {name}: {e}"))?;
            by_name.insert(name.to_owned(), Arc::new(arena));
        }
        if let Some(text) = file {
            by_name.insert(FILE.to_owned(), Arc::new(Arena::from_json(text)?));
        }
        let fallback = by_name
            .get(DEFAULT)
            .cloned()
            .ok_or_else(|| format!("no embedded map {DEFAULT}"))?;
        Ok(Maps { by_name, fallback })
    }

    /// The map called `name`; match options are checked against the same names, so the
    /// embedded arena stands in only for a name that cannot reach here.
    pub fn get(&self, name: &str) -> &Arc<Arena> {
        self.by_name.get(name).unwrap_or(&self.fallback)
    }

    /// Every map with its name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Arc<Arena>)> {
        self.by_name.iter().map(|(n, a)| (n.as_str(), a))
    }
}
