//! A slab: `O(1)` insert, remove and lookup by index, with a generation per slot so that stale
//! handles and timer entries for a reused slot are recognised.

/// Values stored by `u32` index; freed slots are reused.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Slab<T> {
    pub(crate) const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Stores `value`; returns its index and the slot's generation.
    pub(crate) fn insert(&mut self, value: T) -> (u32, u32) {
        self.len += 1;
        if let Some(index) = self.free.pop()
            && let Some(slot) = self.slots.get_mut(index as usize)
        {
            slot.value = Some(value);
            return (index, slot.generation);
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        (index, 0)
    }

    /// Removes the value at `index` if its slot has `generation`; the generation changes.
    pub(crate) fn remove(&mut self, index: u32, generation: u32) -> Option<T> {
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }

    /// The value at `index` if its slot still has `generation`.
    pub(crate) fn get(&self, index: u32, generation: u32) -> Option<&T> {
        let slot = self.slots.get(index as usize)?;
        (slot.generation == generation)
            .then_some(slot.value.as_ref())
            .flatten()
    }

    /// The value at `index` if its slot still has `generation`.
    pub(crate) fn get_mut(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        let slot = self.slots.get_mut(index as usize)?;
        (slot.generation == generation)
            .then_some(slot.value.as_mut())
            .flatten()
    }

    /// The generation of slot `index` if it holds a value.
    pub(crate) fn generation_of(&self, index: u32) -> Option<u32> {
        let slot = self.slots.get(index as usize)?;
        slot.value.as_ref().map(|_| slot.generation)
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Every value with its index and generation.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = (u32, u32, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, slot)| {
            let generation = slot.generation;
            slot.value.as_mut().map(|v| (i as u32, generation, v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_catch_stale_indices() {
        let mut s = Slab::new();
        let (i, g) = s.insert("a");
        assert_eq!(s.get(i, g), Some(&"a"));
        assert_eq!(s.remove(i, g), Some("a"));
        let (j, h) = s.insert("b");
        assert_eq!(i, j);
        assert_ne!(g, h);
        assert_eq!(s.get(i, g), None);
        assert_eq!(s.remove(i, g), None);
        assert_eq!(s.len(), 1);
    }
}
