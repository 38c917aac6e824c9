pub(crate) struct Fsm;
