//! The union rule, for both inputs. `null` picks the null branch. In natural
//! JSON every other branch is tried strictly, plus the tagged reading
//! (`{"<full name or type name>": value}`); exactly one success wins, and only
//! numeric ties are broken: an integer prefers the first int/long branch
//! (logical or not), else double over float; a fraction prefers double over
//! float. In Avro's JSON encoding a non-null value must be tagged by full name
//! or type name; in defaults it is for the first branch.

use std::borrow::Cow;

use crate::avro::write_long;
use crate::encoder::Ctx;
use crate::errors::{quote, Abort};
use crate::schema::{Dialect, Node, NodeId, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Num {
    Integer,
    Fraction,
    NotNumber,
}

/// A value as a union sees it: whichever input it comes from.
pub trait UnionInput<'a>: Sized {
    fn is_null(&self) -> bool;
    fn number(&self) -> Num;
    /// Key and value of a one-key object (the tagged form), if it is one.
    fn tagged(&self) -> Option<(Cow<'a, str>, Self)>;
    fn encode(&self, cx: &mut Ctx<'a>, id: NodeId) -> Result<(), Abort>;
    /// The value as messages quote it.
    fn got(&self) -> String;
}

fn int_based(n: &Node) -> bool {
    matches!(
        n,
        Node::Int | Node::Long | Node::Date | Node::Time(_) | Node::Timestamp { .. }
    )
}

fn float_based(n: &Node) -> bool {
    matches!(n, Node::Float | Node::Double)
}

/// Whether `name` tags branch `id`: full or type name, and in natural JSON
/// also the short name or the logical type's name.
fn tags(plan: &Plan, id: NodeId, name: &str, natural: bool) -> bool {
    let (main, alt) = plan.tag_names(id);
    main == name || (natural && alt == Some(name))
}

/// The name a hint tells the user to tag with.
fn hint_name(plan: &Plan, id: NodeId) -> &str {
    let (main, alt) = plan.tag_names(id);
    match plan.node(id) {
        Node::Fixed { .. } | Node::Enum { .. } | Node::Record(_) | Node::Decimal { .. } => main,
        _ => alt.unwrap_or(main),
    }
}

#[derive(Clone, Copy, Default)]
struct Win {
    branch: usize,
    start: usize,
    end: usize,
    tagged: bool,
}

/// Up to this many fitting branches are kept for the tie rule and message.
const WINS: usize = 8;

/// The branches a value fits, each encoded after the last (at most `WINS`
/// kept), and how many fit in all.
#[derive(Default)]
struct Fits {
    wins: [Win; WINS],
    n: usize,
    total: usize,
}

impl Fits {
    fn probe<'a, V: UnionInput<'a>>(
        &mut self,
        cx: &mut Ctx<'a>,
        branch: usize,
        id: NodeId,
        v: &V,
        tagged: bool,
    ) {
        let start = cx.out.len();
        if let Some(end) = probe(cx, branch, id, v) {
            if self.n < WINS {
                self.wins[self.n] = Win {
                    branch,
                    start,
                    end,
                    tagged,
                };
                self.n += 1;
            }
            self.total += 1;
        }
    }
}

pub fn encode<'a, V: UnionInput<'a>>(
    cx: &mut Ctx<'a>,
    id: NodeId,
    branches: &'a [NodeId],
    v: &V,
) -> Result<(), Abort> {
    let plan = cx.plan;
    if v.is_null() {
        if let Some(i) = branches
            .iter()
            .position(|b| matches!(plan.node(*b), Node::Null))
        {
            write_long(&mut cx.out, i as i64);
            return Ok(());
        }
    }
    match cx.dialect {
        Dialect::Default => {
            let Some(first) = branches.first() else {
                return cx.errs.push(|| "an empty union takes no value".into());
            };
            write_long(&mut cx.out, 0);
            v.encode(cx, *first)
        }
        Dialect::Avro => match v.tagged() {
            Some((name, inner)) => {
                match branches.iter().position(|b| tags(plan, *b, &name, false)) {
                    Some(i) => {
                        write_long(&mut cx.out, i as i64);
                        inner.encode(cx, branches[i])
                    }
                    None => cx.errs.push(|| {
                        format!(
                            "{} tags no branch of the union ({})",
                            quote(&name),
                            tag_list(plan, branches, false)
                        )
                    }),
                }
            }
            None => cx.errs.push(|| {
                format!(
                    "expected a union value tagged as {{\"<type>\": value}} with <type> one of {}, got {}",
                    tag_list(plan, branches, false),
                    v.got()
                )
            }),
        },
        Dialect::Natural => natural(cx, id, branches, v),
    }
}

fn tag_list(plan: &Plan, branches: &[NodeId], natural: bool) -> String {
    branches
        .iter()
        .filter(|b| !matches!(plan.node(**b), Node::Null))
        .map(|b| {
            if natural {
                quote(hint_name(plan, *b))
            } else {
                quote(plan.tag_names(*b).0)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Tries `v` (or its tagged inner value) as branch `i` without reporting.
fn probe<'a, V: UnionInput<'a>>(cx: &mut Ctx<'a>, i: usize, id: NodeId, v: &V) -> Option<usize> {
    let start = cx.out.len();
    let mark = cx.errs.mark();
    let depth = cx.depth;
    write_long(&mut cx.out, i as i64);
    cx.errs.probing += 1;
    let ok = v.encode(cx, id).is_ok();
    cx.errs.probing -= 1;
    if ok {
        Some(cx.out.len())
    } else {
        cx.out.truncate(start);
        cx.errs.reset(&mark);
        cx.depth = depth;
        None
    }
}

fn natural<'a, V: UnionInput<'a>>(
    cx: &mut Ctx<'a>,
    id: NodeId,
    branches: &'a [NodeId],
    v: &V,
) -> Result<(), Abort> {
    let plan = cx.plan;
    let start = cx.out.len();
    let non_null = || {
        branches
            .iter()
            .enumerate()
            .filter(|(_, b)| !matches!(plan.node(**b), Node::Null))
    };
    let tagged = v.tagged();
    let tag_fits = |name: &str| non_null().any(|(_, b)| tags(plan, *b, name, true));
    // The optional-value shape ([null, T], a value that is not tagged): the
    // value is T's or nothing, so T reports its own errors in detail.
    let mut others = non_null();
    if let (Some((only, b)), None) = (others.next(), others.next()) {
        if !v.is_null() && !tagged.as_ref().is_some_and(|(name, _)| tag_fits(name)) {
            write_long(&mut cx.out, only as i64);
            return v.encode(cx, *b);
        }
    }
    let mut found = Fits::default();
    if !v.is_null() {
        for (i, b) in non_null() {
            found.probe(cx, i, *b, v, false);
        }
    }
    if let Some((name, inner)) = &tagged {
        for (i, b) in non_null().filter(|(_, b)| tags(plan, **b, name, true)) {
            found.probe(cx, i, *b, inner, true);
        }
    }
    let (total, wins) = (found.total, &found.wins[..found.n]);
    let pick = match (total, wins) {
        (1, [w]) => Some(*w),
        (0, _) => None,
        _ => tie(plan, branches, wins, v.number()),
    };
    if let Some(w) = pick {
        cx.out.copy_within(w.start..w.end, start);
        cx.out.truncate(start + (w.end - w.start));
        return Ok(());
    }
    cx.out.truncate(start);
    if total == 0 {
        return cx.errs.push(|| {
            format!(
                "expected {}, got {}",
                plan.describe(id, Dialect::Natural),
                v.got()
            )
        });
    }
    cx.errs.push(|| {
        let names: Vec<String> = wins
            .iter()
            .map(|w| quote(hint_name(plan, branches[w.branch])))
            .collect();
        format!(
            "{} fits more than one branch of the union ({}): tag it as {{{}: value}}",
            v.got(),
            names.join(", "),
            names.join(": value} or {"),
        )
    })
}

/// The numeric tie rule; `None` when the tie stands (ambiguous).
fn tie(plan: &Plan, branches: &[NodeId], wins: &[Win], num: Num) -> Option<Win> {
    if wins.iter().any(|w| w.tagged) {
        return None;
    }
    let node = |w: &Win| plan.node(branches[w.branch]);
    match num {
        Num::Integer
            if wins
                .iter()
                .all(|w| int_based(node(w)) || float_based(node(w))) =>
        {
            wins.iter()
                .find(|w| int_based(node(w)))
                .or_else(|| wins.iter().find(|w| matches!(node(w), Node::Double)))
                .copied()
        }
        Num::Fraction if wins.iter().all(|w| float_based(node(w))) => wins
            .iter()
            .find(|w| matches!(node(w), Node::Double))
            .copied(),
        _ => None,
    }
}
