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

pub use graph::{graph, graph_dot, graph_json, graph_svg, Edge, Graph, Node, NodeKind};
pub use palette::{palette, style, Glyph, Mark, Style};
pub use timeline::{timeline_events, timeline_svg, Lanes, Status, TimelineEvent};

use crate::event::Head;

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
