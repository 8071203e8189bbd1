//! The bounded send queue: frames sent while the link is down wait here, in
//! order, bounded by count and by bytes.

use std::collections::VecDeque;

use super::frame::Opcode;

/// One frame waiting to be sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QueuedFrame {
    pub(crate) data: Vec<u8>,
    pub(crate) opcode: Opcode,
}

/// FIFO of frames with a count and a byte bound.
#[derive(Clone, Debug)]
pub(crate) struct SendQueue {
    frames: VecDeque<QueuedFrame>,
    bytes: usize,
    max_frames: usize,
    max_bytes: usize,
}

impl SendQueue {
    pub(crate) fn new(max_frames: usize, max_bytes: usize) -> Self {
        SendQueue {
            frames: VecDeque::new(),
            bytes: 0,
            max_frames,
            max_bytes,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.frames.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    fn fits(&self, len: usize) -> bool {
        self.frames.len() < self.max_frames && self.bytes.saturating_add(len) <= self.max_bytes
    }

    /// Append at the back, or give the frame back if it does not fit.
    pub(crate) fn push(&mut self, frame: QueuedFrame) -> Result<(), QueuedFrame> {
        if !self.fits(frame.data.len()) {
            return Err(frame);
        }
        self.bytes += frame.data.len();
        self.frames.push_back(frame);
        Ok(())
    }

    /// Put frames that were on their way out back at the front, keeping
    /// their order; frames pushed out of the bounds (newest first) are
    /// returned, oldest first.
    pub(crate) fn requeue_front(&mut self, frames: Vec<QueuedFrame>) -> Vec<QueuedFrame> {
        for f in frames.into_iter().rev() {
            self.bytes += f.data.len();
            self.frames.push_front(f);
        }
        let mut overflow = Vec::new();
        while self.frames.len() > self.max_frames || self.bytes > self.max_bytes {
            match self.frames.pop_back() {
                Some(f) => {
                    self.bytes -= f.data.len();
                    overflow.push(f);
                }
                None => break,
            }
        }
        overflow.reverse();
        overflow
    }

    /// Take every frame, oldest first.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = QueuedFrame> + '_ {
        self.bytes = 0;
        self.frames.drain(..)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(b: &[u8]) -> QueuedFrame {
        QueuedFrame {
            data: b.to_vec(),
            opcode: Opcode::Text,
        }
    }

    #[test]
    fn bounded_by_count_and_bytes() {
        let mut q = SendQueue::new(2, 5);
        assert!(q.push(f(b"ab")).is_ok());
        assert_eq!(q.push(f(b"abcd")), Err(f(b"abcd")));
        assert!(q.push(f(b"cde")).is_ok());
        assert_eq!(q.push(f(b"")), Err(f(b"")));
        assert_eq!((q.len(), q.bytes()), (2, 5));
        let all: Vec<_> = q.drain().collect();
        assert_eq!(all, vec![f(b"ab"), f(b"cde")]);
        assert_eq!((q.len(), q.bytes()), (0, 0));
    }

    #[test]
    fn requeue_keeps_order_and_spills_newest() {
        let mut q = SendQueue::new(3, 100);
        q.push(f(b"3")).unwrap();
        q.push(f(b"4")).unwrap();
        let spilled = q.requeue_front(vec![f(b"1"), f(b"2")]);
        assert_eq!(spilled, vec![f(b"4")]);
        assert_eq!(
            q.drain().collect::<Vec<_>>(),
            vec![f(b"1"), f(b"2"), f(b"3")]
        );
    }
}
