pub mod csv;
pub mod npy;
pub mod run;
pub mod source;
pub mod sweep;
