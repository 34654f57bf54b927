//! In-app notifications, notification settings and e-mail templates over HTTP; the operations
//! are `psa_store::notifications`.

pub mod http;
pub mod settings_http;
pub mod templates_http;
