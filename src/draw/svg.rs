//! SVG text helpers shared by the graph and the timeline: escaping, text width
//! estimates, the end marks, the timeline shapes, the legend and the caption.

use super::palette::{Glyph, Mark, Style};
use super::Caption;
use std::fmt::Write;

/// The font stack of every picture. Widths are estimated for the first font,
/// DejaVu Sans, which is wider than the usual fallbacks (Arial, Helvetica), so
/// estimates err on the side of room.
pub(crate) const FONT: &str = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";
/// The monospace font stack of the ledger head.
pub(crate) const MONO: &str = "DejaVu Sans Mono, Menlo, Consolas, monospace";
/// Outer margin of every picture.
pub(crate) const MARGIN: i64 = 20;
/// Font size of captions and legends.
pub(crate) const SMALL: i64 = 11;

/// Writes formatted text to a `String` (which cannot fail).
macro_rules! w {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}
pub(crate) use w;

/// Advance widths of DejaVu Sans for ASCII 32..=126, in thousandths of an em
/// (rounded up), as read from the font's `hmtx` table.
const DEJAVU_SANS: [u16; 95] = [
    318, 401, 460, 838, 637, 951, 780, 275, 391, 391, 500, 838, 318, 361, 318, 337, 637, 637, 637,
    637, 637, 637, 637, 637, 637, 637, 337, 337, 838, 838, 838, 531, 1000, 685, 687, 699, 771, 632,
    576, 775, 752, 295, 295, 656, 558, 863, 749, 788, 604, 788, 695, 635, 611, 732, 685, 989, 686,
    611, 686, 391, 337, 391, 838, 500, 500, 613, 635, 550, 635, 616, 353, 635, 634, 278, 278, 580,
    278, 975, 634, 612, 635, 635, 412, 521, 393, 634, 592, 818, 592, 592, 525, 637, 337, 637, 838,
];

fn advance(c: char) -> i64 {
    match c {
        ' '..='~' => i64::from(DEJAVU_SANS[c as usize - 32]),
        // Latin letters with accents are about as wide as their base letter.
        '\u{a0}'..='\u{24f}' => 780,
        _ => 1000,
    }
}

/// Estimated width in pixels of `s` at `size` px in the sans font (5% extra).
pub(crate) fn text_width(s: &str, size: i64) -> i64 {
    let thousandths: i64 = s.chars().map(advance).sum();
    (thousandths * size * 105 + 99_999) / 100_000
}

/// Estimated width in pixels of `s` at `size` px in the monospace font.
pub(crate) fn mono_width(s: &str, size: i64) -> i64 {
    (s.chars().count() as i64 * 603 * size * 105 + 99_999) / 100_000
}

/// `s` cut with an ellipsis to at most `max` px at `size` px.
pub(crate) fn fit(s: &str, size: i64, max: i64) -> String {
    if text_width(s, size) <= max {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        out.push(c);
        if text_width(&out, size) + text_width("…", size) > max {
            out.pop();
            break;
        }
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Escapes text for XML content and attribute values; characters XML 1.0
/// forbids become U+FFFD.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{fffe}' | '\u{ffff}') => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// The opening of an SVG document of `width` × `height` px on white.
pub(crate) fn open(out: &mut String, class: &str, width: i64, height: i64, title: &str) {
    w!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{class}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"{FONT}\">\n<title>{}</title>\n<rect class=\"background\" x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n",
        esc(title)
    );
}

/// The id of the end marker of a style.
pub(crate) fn marker_id(s: &Style) -> String {
    format!("end-{}", s.kind)
}

/// An SVG `<marker>` drawing a style's end mark, tip at the line's end.
pub(crate) fn marker(out: &mut String, s: &Style) {
    let c = s.colour;
    let (ref_x, body) = match s.mark {
        Mark::Arrow => (10, format!("<path d=\"M0,0 L10,5 L0,10 Z\" fill=\"{c}\"/>")),
        Mark::OpenArrow => (
            9,
            format!(
                "<path d=\"M1,1 L9,5 L1,9\" fill=\"none\" stroke=\"{c}\" stroke-width=\"1.6\"/>"
            ),
        ),
        Mark::Cross => (
            8,
            format!(
                "<path d=\"M1,1 L9,9 M1,9 L9,1\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2.2\"/>"
            ),
        ),
        Mark::Diamond => (10, format!("<path d=\"M0,5 L5,0 L10,5 L5,10 Z\" fill=\"{c}\"/>")),
        Mark::Dot => (9, format!("<circle cx=\"5\" cy=\"5\" r=\"4\" fill=\"{c}\"/>")),
        Mark::Bar => (
            9,
            format!("<path d=\"M8,0 L8,10\" fill=\"none\" stroke=\"{c}\" stroke-width=\"2.5\"/>"),
        ),
        Mark::Triangle => (
            10,
            format!(
                "<path d=\"M1,1 L10,5 L1,9 Z\" fill=\"#ffffff\" stroke=\"{c}\" stroke-width=\"1.4\"/>"
            ),
        ),
    };
    w!(
        out,
        "<marker id=\"{}\" viewBox=\"0 0 10 10\" refX=\"{ref_x}\" refY=\"5\" markerWidth=\"10\" markerHeight=\"10\" markerUnits=\"userSpaceOnUse\" orient=\"auto\">{body}</marker>\n",
        marker_id(s)
    );
}

/// The stroke attributes of a style's line.
pub(crate) fn stroke(s: &Style) -> String {
    let mut a = format!(
        "fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"",
        s.colour,
        s.width()
    );
    if let Some(d) = s.dash {
        w!(a, " stroke-dasharray=\"{d}\"");
    }
    a
}

/// Half the size of a timeline mark.
pub(crate) const GLYPH_R: i64 = 5;

/// The outline of a glyph centred on (`x`, `y`), as an SVG element with `attrs`.
pub(crate) fn glyph(g: Glyph, x: i64, y: i64, attrs: &str) -> String {
    let r = GLYPH_R;
    let poly = |pts: &[(i64, i64)]| {
        let mut d = String::new();
        for (i, (dx, dy)) in pts.iter().enumerate() {
            w!(
                d,
                "{}{},{} ",
                if i == 0 { "M" } else { "L" },
                x + dx,
                y + dy
            );
        }
        d.push('Z');
        format!("<path d=\"{d}\" {attrs}/>")
    };
    match g {
        Glyph::Circle => format!("<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\" {attrs}/>"),
        Glyph::Square => poly(&[
            (-r + 1, -r + 1),
            (r - 1, -r + 1),
            (r - 1, r - 1),
            (-r + 1, r - 1),
        ]),
        Glyph::Diamond => poly(&[(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)]),
        Glyph::TriangleDown => poly(&[(-r, -r + 1), (r, -r + 1), (0, r)]),
        Glyph::TriangleUp => poly(&[(-r, r - 1), (r, r - 1), (0, -r)]),
        Glyph::TriangleLeft => poly(&[(r - 1, -r), (r - 1, r), (-r, 0)]),
        Glyph::TriangleRight => poly(&[(-r + 1, -r), (-r + 1, r), (r, 0)]),
        Glyph::Hexagon => poly(&[
            (-r, 0),
            (-r / 2 - 1, -r),
            (r / 2 + 1, -r),
            (r, 0),
            (r / 2 + 1, r),
            (-r / 2 - 1, r),
        ]),
    }
}

/// One entry of a legend: a sample drawn in the box (0..36, -7..7) and a text.
pub(crate) struct LegendItem {
    /// Extra classes of the entry (`legend-item` is always there).
    pub class: String,
    /// `data-kind` of the entry.
    pub kind: String,
    /// SVG of the sample, around (18, 0).
    pub sample: String,
    /// What the entry says.
    pub text: String,
    /// Its tooltip.
    pub title: String,
}

const LEGEND_ROW: i64 = 20;
const SAMPLE_W: i64 = 36;

fn item_width(i: &LegendItem) -> i64 {
    SAMPLE_W + 6 + text_width(&i.text, SMALL) + 22
}

/// The height the legend takes when wrapped at `width` px.
pub(crate) fn legend_height(items: &[LegendItem], width: i64) -> i64 {
    if items.is_empty() {
        return 0;
    }
    let mut rows = 1;
    let mut x = 0;
    for i in items {
        let w = item_width(i);
        if x > 0 && x + w > width {
            rows += 1;
            x = 0;
        }
        x += w;
    }
    rows * LEGEND_ROW + 4
}

/// The widest single item: the legend needs at least this much width.
pub(crate) fn legend_min_width(items: &[LegendItem]) -> i64 {
    items.iter().map(item_width).max().unwrap_or(0)
}

/// Writes the legend at (`x0`, `y0`), wrapped at `width` px.
pub(crate) fn legend(out: &mut String, items: &[LegendItem], x0: i64, y0: i64, width: i64) {
    if items.is_empty() {
        return;
    }
    w!(out, "<g class=\"legend\">\n");
    let (mut x, mut y) = (0, y0 + LEGEND_ROW / 2);
    for i in items {
        let iw = item_width(i);
        if x > 0 && x + iw > width {
            x = 0;
            y += LEGEND_ROW;
        }
        w!(
            out,
            "<g class=\"legend-item {}\" data-kind=\"{}\"><title>{}</title><g transform=\"translate({},{})\">{}</g><text x=\"{}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"#222222\">{}</text></g>\n",
            esc(&i.class),
            esc(&i.kind),
            esc(&i.title),
            x0 + x,
            y,
            i.sample,
            x0 + x + SAMPLE_W + 6,
            y + 4,
            esc(&i.text)
        );
        x += iw;
    }
    w!(out, "</g>\n");
}

const CAPTION_ROW: i64 = 16;

/// The height of a caption.
pub(crate) fn caption_height() -> i64 {
    2 * CAPTION_ROW + 4
}

/// The width a caption needs.
pub(crate) fn caption_width(c: &Caption) -> i64 {
    let [a, b] = c.lines();
    text_width(&a, SMALL).max(mono_width(&b, SMALL))
}

/// Writes the caption with its top at `y0`.
pub(crate) fn caption(out: &mut String, c: &Caption, x0: i64, y0: i64) {
    let [a, b] = c.lines();
    w!(
        out,
        "<g class=\"caption\" data-head=\"{}\" data-as-of=\"{}\">\n<text class=\"caption-query\" x=\"{x0}\" y=\"{}\" font-size=\"{SMALL}\" fill=\"#444444\">{}</text>\n<text class=\"caption-head\" x=\"{x0}\" y=\"{}\" font-size=\"{SMALL}\" font-family=\"{MONO}\" fill=\"#444444\">{}</text>\n</g>\n",
        esc(&c.head.token()),
        c.as_of.map(|d| d.to_string()).unwrap_or_default(),
        y0 + CAPTION_ROW - 4,
        esc(&a),
        y0 + 2 * CAPTION_ROW - 4,
        esc(&b)
    );
}

/// A whole picture that says `message` in its middle, with the caption.
pub(crate) fn empty(class: &str, title: &str, message: &str, c: &Caption) -> String {
    let width = (caption_width(c) + 2 * MARGIN).max(640);
    let height = 240;
    let mut out = String::new();
    open(&mut out, class, width, height, title);
    w!(
        out,
        "<text class=\"empty\" x=\"{}\" y=\"{}\" font-size=\"16\" text-anchor=\"middle\" fill=\"#555555\">{}</text>\n",
        width / 2,
        height / 2 - 10,
        esc(message)
    );
    caption(&mut out, c, MARGIN, height - MARGIN - caption_height());
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(esc("x\u{1}y"), "x\u{fffd}y");
    }

    #[test]
    fn fit_cuts_long_text_to_width() {
        let long = "Office of the United Nations High Commissioner for Refugees";
        let cut = fit(long, 12, 120);
        assert!(cut.ends_with('…'));
        assert!(text_width(&cut, 12) <= 120);
        assert_eq!(fit("Libya", 12, 120), "Libya");
    }

    #[test]
    fn widths_grow_with_text_and_size() {
        assert!(text_width("WWW", 12) > text_width("iii", 12));
        assert!(text_width("Russia", 14) > text_width("Russia", 12));
        assert_eq!(text_width("", 12), 0);
    }
}
