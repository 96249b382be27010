pub mod csv;
pub mod npy;
pub mod source;
