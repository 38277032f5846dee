//! The one table of how each stance kind is drawn, shared by the graph and the
//! timeline. Colours follow the Okabe-Ito set (told apart by most colour-blind
//! readers), darkened where a line must stand out on white; each kind also has
//! its own dash pattern and end mark (graph) and shape (timeline), so that a
//! greyscale print still tells a demand from an appeal from a denial.

/// The mark at the end of a graph edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A filled arrowhead.
    Arrow,
    /// An open chevron.
    OpenArrow,
    /// A cross: the party says it is not so.
    Cross,
    /// A filled diamond: the party says it is so.
    Diamond,
    /// A filled dot.
    Dot,
    /// A bar across the line.
    Bar,
    /// A hollow triangle.
    Triangle,
}

/// The shape of a timeline mark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Glyph {
    /// A square.
    Square,
    /// A circle.
    Circle,
    /// A triangle pointing down.
    TriangleDown,
    /// A diamond.
    Diamond,
    /// A triangle pointing up.
    TriangleUp,
    /// A triangle pointing left.
    TriangleLeft,
    /// A triangle pointing right.
    TriangleRight,
    /// A hexagon.
    Hexagon,
}

/// How one stance kind is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    /// The stance kind (`demand`, `appeal`, ... as [`stance_kind`](crate::projection::stance_kind) gives).
    pub kind: &'static str,
    /// Stroke and fill colour, `#rrggbb`.
    pub colour: &'static str,
    /// Line width in tenths of a pixel.
    pub width_tenths: u32,
    /// SVG `stroke-dasharray`, `None` for a solid line.
    pub dash: Option<&'static str>,
    /// The graph edge's end mark.
    pub mark: Mark,
    /// The timeline mark's shape.
    pub glyph: Glyph,
    /// How the line looks, in words (for the legend's tooltip).
    pub describe: &'static str,
}

impl Style {
    /// The line width as SVG text (`3.5`).
    pub fn width(&self) -> String {
        let (w, t) = (self.width_tenths / 10, self.width_tenths % 10);
        if t == 0 {
            w.to_string()
        } else {
            format!("{w}.{t}")
        }
    }
}

const PALETTE: &[Style] = &[
    Style {
        kind: "demand",
        colour: "#d55e00",
        width_tenths: 35,
        dash: None,
        mark: Mark::Arrow,
        glyph: Glyph::Square,
        describe: "thick solid line, filled arrowhead",
    },
    Style {
        kind: "appeal",
        colour: "#0072b2",
        width_tenths: 15,
        dash: None,
        mark: Mark::OpenArrow,
        glyph: Glyph::Circle,
        describe: "thin solid line, open arrowhead",
    },
    Style {
        kind: "denial",
        colour: "#7b2d8e",
        width_tenths: 20,
        dash: Some("7 4"),
        mark: Mark::Cross,
        glyph: Glyph::TriangleDown,
        describe: "dashed line ending in a cross",
    },
    Style {
        kind: "assertion",
        colour: "#009e73",
        width_tenths: 20,
        dash: Some("2 3"),
        mark: Mark::Diamond,
        glyph: Glyph::Diamond,
        describe: "dotted line ending in a diamond",
    },
    Style {
        kind: "support",
        colour: "#3a8fc4",
        width_tenths: 20,
        dash: Some("12 3"),
        mark: Mark::Dot,
        glyph: Glyph::TriangleUp,
        describe: "long-dashed line ending in a dot",
    },
    Style {
        kind: "rejection",
        colour: "#e69f00",
        width_tenths: 20,
        dash: Some("10 3 2 3"),
        mark: Mark::Bar,
        glyph: Glyph::TriangleLeft,
        describe: "dash-dot line ending in a bar",
    },
    Style {
        kind: "criticism",
        colour: "#a6761d",
        width_tenths: 20,
        dash: Some("4 2"),
        mark: Mark::Arrow,
        glyph: Glyph::TriangleRight,
        describe: "short-dashed line, filled arrowhead",
    },
    Style {
        kind: "warning",
        colour: "#333333",
        width_tenths: 15,
        dash: Some("12 3 3 3 3 3"),
        mark: Mark::Triangle,
        glyph: Glyph::Hexagon,
        describe: "dash-dot-dot line ending in a hollow triangle",
    },
    Style {
        kind: "concern",
        colour: "#cc79a7",
        width_tenths: 15,
        dash: Some("1 3"),
        mark: Mark::Dot,
        glyph: Glyph::Circle,
        describe: "thin dotted pink line ending in a dot",
    },
    Style {
        kind: "commitment",
        colour: "#56b4e9",
        width_tenths: 25,
        dash: None,
        mark: Mark::Diamond,
        glyph: Glyph::Square,
        describe: "solid sky-blue line ending in a diamond",
    },
    Style {
        kind: "refusal",
        colour: "#8c6d00",
        width_tenths: 20,
        dash: Some("6 3"),
        mark: Mark::Cross,
        glyph: Glyph::TriangleLeft,
        describe: "dashed ochre line ending in a cross",
    },
    Style {
        kind: "threat",
        colour: "#a50026",
        width_tenths: 30,
        dash: Some("8 2"),
        mark: Mark::Triangle,
        glyph: Glyph::TriangleUp,
        describe: "thick dashed dark-red line ending in a hollow triangle",
    },
    Style {
        kind: "formal-act",
        colour: "#000000",
        width_tenths: 25,
        dash: None,
        mark: Mark::Bar,
        glyph: Glyph::Diamond,
        describe: "solid black line ending in a bar",
    },
    Style {
        kind: "vote",
        colour: "#404040",
        width_tenths: 20,
        dash: Some("1 2"),
        mark: Mark::Bar,
        glyph: Glyph::Hexagon,
        describe: "dotted dark-grey line ending in a bar",
    },
    Style {
        kind: "other",
        colour: "#888888",
        width_tenths: 15,
        dash: Some("3 3"),
        mark: Mark::OpenArrow,
        glyph: Glyph::Circle,
        describe: "grey dashed line, open arrowhead",
    },
];

/// Every style, in legend order.
pub fn palette() -> &'static [Style] {
    PALETTE
}

/// The style of a stance kind (`other` for a kind the palette does not know).
pub fn style(kind: &str) -> &'static Style {
    PALETTE
        .iter()
        .find(|s| s.kind == kind)
        .unwrap_or(&PALETTE[PALETTE.len() - 1])
}

/// The index of a kind in legend order.
pub(crate) fn order(kind: &str) -> usize {
    PALETTE
        .iter()
        .position(|s| s.kind == kind)
        .unwrap_or(PALETTE.len() - 1)
}
