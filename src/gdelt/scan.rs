//! Finding a row's columns: the newline that ends a line, then its tabs,
//! eight bytes at a time, so that the reader touches only the columns it
//! reads.

use super::COLUMNS;

/// Where the tabs of one line are: the first `COLUMNS - 1` positions (room
/// for 64, so that recording one needs no check), and how many there are in
/// all.
#[derive(Debug, Clone)]
pub(super) struct Tabs {
    at: [usize; 64],
    count: usize,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is zero, and no other bit. Exact:
/// no carry crosses from one byte to the next.
#[inline]
fn zero_bytes(w: u64) -> u64 {
    !(((w & LOW7) + LOW7) | w) & HIGH
}

impl Tabs {
    /// No tabs.
    pub(super) fn new() -> Tabs {
        Tabs {
            at: [0; 64],
            count: 0,
        }
    }

    /// Tabs in the line, all of them.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// Scans `bytes` up to its first newline, recording the tabs before it
    /// (past the 64th, over earlier ones, which a line with that many columns
    /// never reads, so that recording one needs no check). The newline's index, or `None` when there is none (the tabs are then
    /// those of all of `bytes`).
    pub(super) fn scan(&mut self, bytes: &[u8]) -> Option<usize> {
        let end = memchr::memchr(b'\n', bytes);
        let line = &bytes[..end.unwrap_or(bytes.len())];
        let words = line.chunks_exact(8);
        let tail = words.remainder();
        let (at, mut count) = (&mut self.at, 0usize);
        let mut push = |i: usize| {
            at[count % 64] = i;
            count += 1;
        };
        for (k, word) in words.enumerate() {
            let w = u64::from_le_bytes(word.try_into().expect("8 bytes"));
            let mut tabs = zero_bytes(w ^ (ONES * u64::from(b'\t')));
            while tabs != 0 {
                push(k * 8 + tabs.trailing_zeros() as usize / 8);
                tabs &= tabs - 1;
            }
        }
        let base = line.len() - tail.len();
        for (i, &b) in tail.iter().enumerate() {
            if b == b'\t' {
                push(base + i);
            }
        }
        self.count = count;
        end
    }

    /// Column `i` of `line`, the line scanned (without its newline), when it
    /// has exactly [`COLUMNS`] columns.
    #[inline]
    pub(super) fn column<'a>(&self, line: &'a str, i: usize) -> &'a str {
        let start = match i {
            0 => 0,
            _ => self.at[i - 1] + 1,
        };
        let end = match i {
            _ if i == COLUMNS - 1 => line.len(),
            _ => self.at[i],
        };
        &line[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `str::split` says, to compare with.
    fn reference(text: &str) -> (Option<usize>, Vec<usize>) {
        let nl = text.find('\n');
        let line = &text[..nl.unwrap_or(text.len())];
        let tabs = line
            .char_indices()
            .filter(|(_, c)| *c == '\t')
            .map(|(i, _)| i)
            .collect();
        (nl, tabs)
    }

    #[test]
    fn tabs_and_the_newline_are_found_wherever_they_fall_in_a_word() {
        let mut t = Tabs::new();
        let mut cases: Vec<String> = vec![
            String::new(),
            "\n".into(),
            "\t".into(),
            "\t\n\t".into(),
            "abc".into(),
            "a\tb\tc\n\td\te".into(),
            "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t".into(),
            "\u{e9}\t\u{ff}\u{1ff}\t\u{9}\u{89}\n".into(),
            "\x7f\u{80}\t\x08\x0a\x0b".into(),
        ];
        // Every length up to three words, a tab or a newline at every place.
        for len in 0..24 {
            for at in 0..len {
                for c in ['\t', '\n'] {
                    let mut s: Vec<char> = "x".repeat(len).chars().collect();
                    s[at] = c;
                    cases.push(s.iter().collect());
                }
            }
        }
        for s in &cases {
            let (nl, tabs) = reference(s);
            assert_eq!(t.scan(s.as_bytes()), nl, "{s:?}");
            assert_eq!(t.count(), tabs.len(), "{s:?}");
            let n = tabs.len().min(COLUMNS - 1);
            assert_eq!(&t.at[..n], &tabs[..n], "{s:?}");
        }
    }

    #[test]
    fn more_tabs_than_columns_are_counted_not_recorded() {
        let mut t = Tabs::new();
        let line = "x\t".repeat(100);
        assert_eq!(t.scan(line.as_bytes()), None);
        assert_eq!(t.count(), 100);
        let row = vec!["c"; COLUMNS].join("\t");
        assert_eq!(t.scan(format!("{row}\nnext\t").as_bytes()), Some(row.len()));
        assert_eq!(t.count(), COLUMNS - 1);
        for i in 0..COLUMNS {
            assert_eq!(t.column(&row, i), "c");
        }
    }
}
