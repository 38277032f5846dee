//! Plain statements kept in their lines: a line that [`scan`](super::scan)
//! reads straight is checked as [`parse_event`](super::parse_event) checks it,
//! and its strings are left where the line holds them, as places in the text
//! the line came from. An import reads its input this way: a statement never
//! becomes an owned [`Event`], with a string allocated for each of its fields
//! (though [`PlainLine::event`] can make one).

use super::{check_statement, parse_event, scan, InputError};
use crate::event::{Event, Names, QuoteKind, SaidOn, SourceRef, StatementRef};
use std::ops::Range;
use std::rc::Rc;

/// Where a string lies in the text.
#[derive(Clone, Copy, Debug)]
struct Span {
    start: u32,
    end: u32,
}

/// A plain statement as places in the text.
#[derive(Debug)]
struct Spans {
    line: Span,
    said_on: SaidOn,
    party: Span,
    /// Its entries of [`PlainLines::lists`].
    joint_with: Range<u32>,
    /// Name (empty when not given), role, actor.
    speaker: Option<(Span, Option<Span>, Option<Span>)>,
    stance: Span,
    hedge: Option<Span>,
    condition: Option<Span>,
    deadline: Option<jiff::civil::Date>,
    predicate: Span,
    /// Its entries of [`PlainLines::lists`].
    subjects: Range<u32>,
    location: Option<Span>,
    qualifier: Option<Span>,
    document: Option<Span>,
    quote: Span,
    quote_kind: QuoteKind,
    language: Option<Span>,
    url: Option<Span>,
    publisher: Option<Span>,
    published_on: Option<jiff::civil::Date>,
}

/// The plain statements of a text of lines (a piece of input), kept with it.
#[derive(Debug)]
pub struct PlainLines {
    text: String,
    /// The subjects and joint parties of every statement, one after another.
    lists: Vec<Span>,
    statements: Vec<Spans>,
}

impl PlainLines {
    /// No statements yet, of `text`.
    pub fn new(text: String) -> Self {
        PlainLines {
            text,
            lists: Vec::new(),
            statements: Vec::new(),
        }
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Reads the line at `line` of the text (without its line break): the
    /// number of the statement kept, when it is read straight and valid; the
    /// error [`parse_event`] would give, when it is read straight and not
    /// valid; `None` when it is not read straight (for `parse_event` to read).
    ///
    /// # Panics
    /// When `line` is not a range of the text on character boundaries, or
    /// the text is longer than 4 GiB.
    pub fn read(&mut self, line: Range<usize>) -> Option<Result<usize, InputError>> {
        let text = &self.text[line.clone()];
        if text.len() > super::MAX_LINE {
            return Some(Err(parse_event(text).expect_err("too long")));
        }
        let s = scan::statement(text)?;
        let parts = match check_statement("", &s) {
            Ok(parts) => parts,
            Err(e) => return Some(Err(e)),
        };
        let base = self.text.as_ptr() as usize;
        let span = |x: &str| {
            let start = x.as_ptr() as usize - base;
            Span {
                start: u32::try_from(start).expect("a text of at most 4 GiB"),
                end: u32::try_from(start + x.len()).expect("a text of at most 4 GiB"),
            }
        };
        let opt = |x: &Option<&str>| x.map(span);
        let lists = &mut self.lists;
        let mut list = |v: &[&str]| {
            let from = lists.len() as u32;
            lists.extend(v.iter().map(|x| span(x)));
            from..lists.len() as u32
        };
        let pr = &s.proposition;
        let source = s.source.as_ref().expect("checked: a source");
        self.statements.push(Spans {
            line: span(text),
            said_on: parts.said_on,
            party: span(s.party),
            joint_with: list(&s.joint_with),
            speaker: s.speaker.as_ref().map(|sp| {
                (
                    sp.name.map_or(Span { start: 0, end: 0 }, span),
                    opt(&sp.role),
                    opt(&sp.actor),
                )
            }),
            stance: span(s.stance),
            hedge: opt(&s.hedge),
            condition: opt(&s.condition),
            deadline: parts.deadline,
            predicate: span(pr.predicate),
            subjects: list(&pr.subjects),
            location: opt(&pr.location),
            qualifier: opt(&pr.qualifier),
            document: opt(&pr.document),
            quote: span(s.quote),
            quote_kind: parts.quote_kind,
            language: opt(&s.language),
            url: opt(&source.url),
            publisher: opt(&source.publisher),
            published_on: parts.published_on,
        });
        Some(Ok(self.statements.len() - 1))
    }

    fn str(&self, s: Span) -> &str {
        &self.text[s.start as usize..s.end as usize]
    }
}

/// A plain statement kept in its line, with the lines it was read with.
#[derive(Clone, Debug)]
pub struct PlainLine {
    lines: Rc<PlainLines>,
    at: usize,
}

impl PlainLine {
    /// Statement `at` of `lines` (a number [`PlainLines::read`] gave).
    pub fn new(lines: Rc<PlainLines>, at: usize) -> Self {
        assert!(at < lines.statements.len(), "a statement of the lines");
        PlainLine { lines, at }
    }

    /// Its line.
    pub fn line(&self) -> &str {
        self.lines.str(self.lines.statements[self.at].line)
    }

    /// The event its line makes, read again as [`parse_event`] reads it.
    ///
    /// # Errors
    /// None for a line [`PlainLines::read`] kept; as `parse_event` otherwise.
    pub fn event(&self) -> Result<Event, InputError> {
        parse_event(self.line())
    }

    /// Hands `f` the statement's fields, borrowed from its line.
    pub(crate) fn with_statement<R>(&self, f: impl FnOnce(&StatementRef<'_, &str>) -> R) -> R {
        fn names<'a>(l: &'a PlainLines, r: &Range<u32>) -> Names<'a> {
            let mut names = Names::new();
            for x in &l.lists[r.start as usize..r.end as usize] {
                names.push(l.str(*x));
            }
            names
        }
        let l = &*self.lines;
        let s = &l.statements[self.at];
        let str = |x: Span| l.str(x);
        let opt = |x: Option<Span>| x.map(str);
        let subjects = names(l, &s.subjects);
        let joint_with = names(l, &s.joint_with);
        let view = StatementRef {
            said_on: s.said_on,
            party: str(s.party),
            joint_with: joint_with.as_slice(),
            speaker: s
                .speaker
                .map(|(name, role, actor)| (str(name), opt(role), opt(actor))),
            stance: str(s.stance),
            hedge: opt(s.hedge),
            condition: opt(s.condition),
            deadline: s.deadline,
            predicate: str(s.predicate),
            subjects: subjects.as_slice(),
            location: opt(s.location),
            qualifier: opt(s.qualifier),
            document: opt(s.document),
            quote: str(s.quote),
            quote_kind: s.quote_kind,
            language: opt(s.language),
            source: SourceRef {
                url: opt(s.url),
                publisher: opt(s.publisher),
                published_on: s.published_on,
            },
            more_sources: Vec::new(),
            coded: None,
        };
        f(&view)
    }
}
