pub mod container;
pub mod csv;
pub mod memory;
pub mod npy;
pub mod run;
pub mod source;
pub mod sweep;
pub mod targets;
