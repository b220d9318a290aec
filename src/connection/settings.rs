//! Connection settings (placeholder).
