//! The L2TP wire format: headers, AVPs and control messages.
