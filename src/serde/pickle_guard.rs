//! A check that a pickle holds plain data only, run before it is decoded.
//!
//! A pickle is a program for a small stack machine. Python's `pickle.loads`
//! runs any of it: a `GLOBAL` names any callable (`os.system`), `REDUCE`
//! calls it, `NEWOBJ`/`BUILD` make class instances. serde-pickle never calls
//! anything, but it reads class instances as dicts of their attributes
//! without saying so, and its memo copies values on every reference, so a
//! small hostile pickle could expand to gigabytes or nest deep enough to
//! overflow the stack. This walk of the opcodes, before serde-pickle sees
//! them, accepts only what Python writes for plain data (str, bytes, int,
//! float, bool, None, list, tuple, dict, set, frozenset, bytearray) and
//! bounds the decoded size and depth.

use std::collections::HashMap;

/// How deep containers may nest (Python's own default recursion limit is
/// about 1000; data shared through a cache is rarely deeper than a few).
pub(crate) const MAX_DEPTH: u32 = 200;

/// The most digits a decimal integer may have: text-to-integer conversion
/// is quadratic, and Python 3.11 itself refuses more than 4300 by default.
pub(crate) const MAX_INT_DIGITS: usize = 100_000;

/// Why a pickle was refused: a sentence for the error message.
pub(crate) type Refusal = String;

/// The callables a plain-data pickle names, as Python writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Global {
    /// `set`, `frozenset`, `bytearray`: called with one list (protocols < 4).
    Container,
    /// `_codecs.encode`: how protocol 2 writes `bytes` for Python 3.
    Encode,
}

fn allowed_global(module: &[u8], name: &[u8]) -> Option<Global> {
    let builtins = module == b"builtins" || module == b"__builtin__";
    match name {
        b"set" | b"frozenset" | b"bytearray" if builtins => Some(Global::Container),
        b"encode" if module == b"_codecs" => Some(Global::Encode),
        _ => None,
    }
}

#[derive(Debug, Clone)]
enum Kind {
    Scalar,
    /// Text short enough to be a module or attribute name, for `STACK_GLOBAL`.
    Name(Vec<u8>),
    Container,
    Global(Global),
}

#[derive(Debug, Clone)]
struct Node {
    /// What the decoded value costs: a base per value plus its bytes.
    weight: u64,
    depth: u32,
    kind: Kind,
    /// Once inside another container a value may not change: its weight has
    /// been counted there.
    sealed: bool,
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Mark,
    Node(usize),
}

/// The cost of one decoded value beside its bytes (about the size of
/// serde-pickle's `Value`).
const NODE_WEIGHT: u64 = 32;

/// Checks `data`; `Err` says why it is refused. `max_weight` bounds the
/// decoded size in bytes (approximately).
pub(crate) fn check(data: &[u8], max_weight: u64) -> Result<(), Refusal> {
    Machine {
        data,
        pos: 0,
        nodes: Vec::new(),
        stack: Vec::new(),
        memo: HashMap::new(),
        max_weight,
    }
    .run()
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
    stack: Vec<Slot>,
    memo: HashMap<u64, usize>,
    max_weight: u64,
}

impl<'a> Machine<'a> {
    fn run(mut self) -> Result<(), Refusal> {
        loop {
            let at = self.pos;
            let op = self.take(1)?[0];
            let refuse = |what: &str| Err(format!("{what} (opcode 0x{op:02x} at byte {at})"));
            match op {
                b'.' => {
                    return match self.stack.as_slice() {
                        [Slot::Node(node)]
                            if !matches!(self.nodes[*node].kind, Kind::Global(_)) =>
                        {
                            Ok(())
                        }
                        _ => refuse("a pickle that does not end with one value"),
                    }
                }
                0x80 => {
                    if self.take(1)?[0] > 5 {
                        return refuse("a pickle protocol above 5");
                    }
                }
                0x95 => drop(self.take(8)?), // FRAME: a length hint
                b'(' => self.stack.push(Slot::Mark),
                b'0' => drop(self.pop_any()?),
                b'1' => drop(self.pop_mark()?),
                b'2' => {
                    let top = self.top()?;
                    self.stack.push(Slot::Node(top));
                    self.count(top)?;
                }
                // Scalars with fixed-size arguments.
                b'N' | 0x88 | 0x89 => self.scalar(0)?,
                b'K' => self.fixed(1)?,
                b'M' => self.fixed(2)?,
                b'J' => self.fixed(4)?,
                b'G' => self.fixed(8)?,
                // Scalars and strings with a length, or a text line.
                0x8a | b'U' | b'C' => self.sized(1, op == b'U')?,
                0x8b | b'T' | b'B' | b'X' => self.sized(4, op == b'X')?,
                0x8c => self.sized(1, true)?,
                0x8d | 0x8e | 0x96 => self.sized(8, false)?,
                b'I' | b'L' | b'F' | b'S' | b'V' => {
                    let line = self.line()?;
                    if matches!(op, b'I' | b'L') && line.len() > MAX_INT_DIGITS {
                        return refuse("an integer of more than 100000 digits");
                    }
                    let name = op == b'V' || op == b'S';
                    self.push(
                        line.len() as u64,
                        if name { name_of(line) } else { Kind::Scalar },
                    )?;
                }
                // Containers.
                b']' | b'}' | b')' | 0x8f => self.push(0, Kind::Container)?,
                b'l' | b't' | b'd' | 0x91 => {
                    let items = self.pop_mark()?;
                    self.container(&items)?;
                }
                0x85..=0x87 => {
                    let items = self.pop_n(usize::from(op - 0x84))?;
                    self.container(&items)?;
                }
                b'a' => {
                    let item = self.pop_node()?;
                    self.insert(&[item])?;
                }
                b's' => {
                    let items = self.pop_n(2)?;
                    self.insert(&items)?;
                }
                b'e' | b'u' | 0x90 => {
                    let items = self.pop_mark()?;
                    self.insert(&items)?;
                }
                // The memo.
                0x94 => {
                    let top = self.top()?;
                    let index = self.memo.len() as u64;
                    self.memo.insert(index, top);
                }
                b'p' | b'q' | b'r' => {
                    let index = self.memo_index(op, b'p')?;
                    let top = self.top()?;
                    self.memo.insert(index, top);
                }
                b'g' | b'h' | b'j' => {
                    let index = self.memo_index(op, b'g')?;
                    let node = *self.memo.get(&index).ok_or("a memo reference to nothing")?;
                    self.stack.push(Slot::Node(node));
                    self.count(node)?;
                }
                // Globals, and the calls plain data needs.
                b'c' => {
                    let (module, name) = (self.line()?, self.line()?);
                    match allowed_global(module, name) {
                        Some(global) => self.push(0, Kind::Global(global))?,
                        None => return refuse(&global_refusal(module, name)),
                    }
                }
                0x93 => {
                    let name = self.pop_node()?;
                    let module = self.pop_node()?;
                    let (Kind::Name(module), Kind::Name(name)) =
                        (&self.nodes[module].kind, &self.nodes[name].kind)
                    else {
                        return refuse("a global whose name is not plain text");
                    };
                    match allowed_global(module, name) {
                        Some(global) => self.push(0, Kind::Global(global))?,
                        None => {
                            let why = global_refusal(module, name);
                            return refuse(&why);
                        }
                    }
                }
                b'R' => {
                    let args = self.pop_node()?;
                    let callable = self.pop_node()?;
                    match self.nodes[callable].kind {
                        Kind::Global(Global::Container) => self.container(&[args])?,
                        // _codecs.encode(text, "latin1"): bytes as long as the text.
                        Kind::Global(Global::Encode) => {
                            let weight = self.nodes[args].weight;
                            self.push(weight, Kind::Scalar)?;
                        }
                        _ => return refuse(
                            "a call of something other than set, frozenset, bytearray or _codecs.encode",
                        ),
                    }
                }
                b'P' | b'Q' => return refuse("a persistent reference"),
                b'i' | b'o' | 0x81 | 0x92 | b'b' => {
                    return refuse("a class instance (only plain data is read)")
                }
                0x82..=0x84 => return refuse("an extension-registry reference"),
                0x97 | 0x98 => return refuse("an out-of-band buffer"),
                _ => return refuse("an unknown opcode"),
            }
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Refusal> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len());
        let end = end.ok_or_else(|| format!("a pickle cut short at byte {}", self.pos))?;
        let data: &'a [u8] = self.data;
        let bytes = &data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn line(&mut self) -> Result<&'a [u8], Refusal> {
        let data: &'a [u8] = self.data;
        let rest = &data[self.pos..];
        let len = memchr::memchr(b'\n', rest).ok_or("a pickle text line without its end")?;
        self.pos += len + 1;
        Ok(&rest[..len])
    }

    fn length(&mut self, size: usize) -> Result<u64, Refusal> {
        let bytes = self.take(size)?;
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |n, &b| (n << 8) | u64::from(b)))
    }

    fn memo_index(&mut self, op: u8, text_op: u8) -> Result<u64, Refusal> {
        match op - text_op {
            0 => {
                let line = self.line()?;
                let text = std::str::from_utf8(line).ok();
                text.and_then(|text| text.parse().ok())
                    .ok_or_else(|| "a memo index that is not a number".to_string())
            }
            1 => self.length(1),
            _ => self.length(4),
        }
    }

    fn fixed(&mut self, size: usize) -> Result<(), Refusal> {
        self.take(size)?;
        self.scalar(0)
    }

    /// A value whose byte length (little endian, `size` bytes) comes first.
    fn sized(&mut self, size: usize, text: bool) -> Result<(), Refusal> {
        let len = self.length(size)?;
        let len = usize::try_from(len).map_err(|_| "a length past the pickle's end")?;
        let bytes = self.take(len)?;
        let kind = if text { name_of(bytes) } else { Kind::Scalar };
        self.push(len as u64, kind)
    }

    fn scalar(&mut self, bytes: u64) -> Result<(), Refusal> {
        self.push(bytes, Kind::Scalar)
    }

    fn push(&mut self, bytes: u64, kind: Kind) -> Result<(), Refusal> {
        let node = Node {
            weight: NODE_WEIGHT + bytes,
            depth: 0,
            kind,
            sealed: false,
        };
        self.nodes.push(node);
        self.stack.push(Slot::Node(self.nodes.len() - 1));
        self.check_weight(NODE_WEIGHT + bytes)
    }

    /// A new container of `items`, pushed.
    fn container(&mut self, items: &[usize]) -> Result<(), Refusal> {
        self.push(0, Kind::Container)?;
        self.insert(items)
    }

    /// Adds `items` to the container on top of the stack.
    fn insert(&mut self, items: &[usize]) -> Result<(), Refusal> {
        let target = self.top()?;
        if !matches!(self.nodes[target].kind, Kind::Container) || self.nodes[target].sealed {
            return Err("items added to something that is not an open container".into());
        }
        for &item in items {
            if matches!(self.nodes[item].kind, Kind::Global(_)) {
                return Err("a global used as a value".into());
            }
            self.nodes[item].sealed = true;
            let (weight, depth) = (self.nodes[item].weight, self.nodes[item].depth + 1);
            let node = &mut self.nodes[target];
            node.weight = node.weight.saturating_add(weight);
            node.depth = node.depth.max(depth);
            if node.depth > MAX_DEPTH {
                return Err(format!("containers nested deeper than {MAX_DEPTH}"));
            }
        }
        self.check_weight(self.nodes[target].weight)
    }

    /// One more reference to `node`: serde-pickle copies it.
    fn count(&mut self, node: usize) -> Result<(), Refusal> {
        self.check_weight(self.nodes[node].weight)
    }

    fn check_weight(&self, weight: u64) -> Result<(), Refusal> {
        if weight > self.max_weight {
            return Err(format!(
                "a pickle that decodes to more than {} bytes",
                self.max_weight
            ));
        }
        Ok(())
    }

    fn top(&self) -> Result<usize, Refusal> {
        match self.stack.last() {
            Some(Slot::Node(node)) => Ok(*node),
            _ => Err("an opcode without the value it needs".into()),
        }
    }

    fn pop_any(&mut self) -> Result<Slot, Refusal> {
        self.stack
            .pop()
            .ok_or_else(|| "a pop from an empty stack".into())
    }

    fn pop_node(&mut self) -> Result<usize, Refusal> {
        match self.pop_any()? {
            Slot::Node(node) => Ok(node),
            Slot::Mark => Err("a mark where a value was needed".into()),
        }
    }

    fn pop_n(&mut self, n: usize) -> Result<Vec<usize>, Refusal> {
        let mut items = (0..n)
            .map(|_| self.pop_node())
            .collect::<Result<Vec<_>, _>>()?;
        items.reverse();
        Ok(items)
    }

    fn pop_mark(&mut self) -> Result<Vec<usize>, Refusal> {
        let mark = self
            .stack
            .iter()
            .rposition(|slot| matches!(slot, Slot::Mark))
            .ok_or("an opcode that needs a mark without one")?;
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        // No mark follows the last one: every slot left is a value.
        Ok(items
            .into_iter()
            .filter_map(|slot| match slot {
                Slot::Node(node) => Some(node),
                Slot::Mark => None,
            })
            .collect())
    }
}

/// Short text is kept: it may be the module or name of a `STACK_GLOBAL`.
fn name_of(text: &[u8]) -> Kind {
    if text.len() <= 64 {
        Kind::Name(text.to_vec())
    } else {
        Kind::Scalar
    }
}

fn global_refusal(module: &[u8], name: &[u8]) -> String {
    format!(
        "a reference to {}.{} (only set, frozenset, bytearray and _codecs.encode are plain data)",
        String::from_utf8_lossy(&module[..module.len().min(64)]),
        String::from_utf8_lossy(&name[..name.len().min(64)])
    )
}
