//! Pictures of the ledger: pure functions from positions and statements to
//! SVG (and Graphviz DOT and JSON) text. No I/O, no Graphviz, no floats: every
//! coordinate is a whole pixel, and the same input gives the same bytes.
//!
//! - [`graph`] builds a neutral [`Graph`] of who takes which stance on whom
//!   from [`Position`](crate::projection::Position)s; [`graph_svg`],
//!   [`graph_dot`] and [`graph_json`] draw or serialise it.
//! - [`timeline_events`] turns the chain into [`TimelineEvent`]s (with what
//!   became of each: standing, corrected, retracted) and [`timeline_svg`] draws
//!   them on a date axis, one lane per party or per proposition, with a bar at
//!   each deadline that falls on the axis.
//!
//! A position's document is part of its proposition wherever the proposition
//! is written; its deadline, condition and joint parties are in every tooltip
//! (and, shortened, on the edge's row or beside the mark).
//!
//! Every picture carries a [`Caption`]: the as-of date and the ledger head
//! (size and full hash), so that it can be traced to the exact ledger state.
//! Stance kinds are drawn in one [`palette`] shared by both pictures, with
//! colour *and* dash pattern or shape, so they read in greyscale too.

mod graph;
mod palette;
mod svg;
mod timeline;

pub use graph::{
    fold, graph, graph_dot, graph_json, graph_svg, graph_with, Edge, Folded, Graph, Node, NodeKind,
    OTHER_PARTIES, OTHER_TARGETS,
};
pub use palette::{palette, style, Glyph, Mark, Style};
pub use timeline::{
    timeline_events, timeline_svg, timeline_svg_with, Lanes, Status, TimelineEvent,
};

use crate::event::Head;
use crate::vocab::Actors;

/// How a picture names actors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Labels {
    /// The actor's name, cut with an ellipsis where a box is too narrow (the
    /// full name and id are in the tooltip).
    #[default]
    Name,
    /// The actor's id (`RUS`, `UNSC`): short, never cut.
    Id,
    /// The actor's name, whole: boxes and lanes grow to hold it.
    Full,
}

impl Labels {
    /// The name `id` is shown by.
    pub fn name(self, actors: &Actors, id: &str) -> String {
        match self {
            Labels::Id => id.to_string(),
            Labels::Name | Labels::Full => actors
                .get(id)
                .map_or_else(|| id.to_string(), |a| a.def.name.clone()),
        }
    }

    /// The widest a label may be drawn, in pixels, where `usual` is the width
    /// names are cut to.
    pub(crate) fn max_width(self, usual: i64) -> i64 {
        match self {
            Labels::Full => i64::MAX / 4,
            Labels::Name | Labels::Id => usual,
        }
    }
}

/// What a picture shows and of which ledger state: printed at its bottom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caption {
    /// The valid-time date the picture is as of (`None`: everything said so far).
    pub as_of: Option<jiff::civil::Date>,
    /// The transaction-time point, as the user gave it (`seq 12`, a time).
    pub known_at: Option<String>,
    /// The ledger head the picture was drawn from.
    pub head: Head,
    /// The filters applied, in words (empty: none).
    pub filters: String,
}

impl Caption {
    /// The caption's lines: what was asked, then the ledger head `SIZE:HASH`.
    pub fn lines(&self) -> [String; 2] {
        let mut first = match self.as_of {
            Some(d) => format!("as of {d}"),
            None => "as of the latest statement".to_string(),
        };
        if let Some(k) = &self.known_at {
            first.push_str(&format!(" · as known at {k}"));
        }
        let filters = self.filters.trim();
        first.push_str(" · filters: ");
        first.push_str(if filters.is_empty() { "none" } else { filters });
        [first, format!("ledger head {}", self.head.token())]
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "as_of": self.as_of.map(|d| d.to_string()),
            "known_at": self.known_at,
            "head": self.head.token(),
            "size": self.head.size,
            "hash": self.head.hash.to_hex(),
            "filters": self.filters,
        })
    }
}
