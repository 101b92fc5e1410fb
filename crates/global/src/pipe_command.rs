//! Runs a delivery command with the message on its standard input, as a given user, with a
//! time limit, and maps its exit status to a delivery status (enhanced code and text).
//!
//! Postfix counterpart: `src/global/pipe_command.c` (with `sys_exits.c` for the mapping).
