//! The ways a notification reaches someone, as a closed set.
//!
//! Channels are stored and sent as text (`notification_log.channel`,
//! `sla_threshold_rules.channels`, the SLA events' `channels`), and a mistyped string compared
//! unequal to everything instead of failing. [`Channel`] is the one list: read text with
//! [`str::parse`] (a typed error naming the value) and write it with [`Channel::as_str`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A notification channel. Serialized as `email` / `in_app`, the database's spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An e-mail through the tenant's (or the system's) SMTP settings.
    Email,
    /// A row the user sees in the application.
    InApp,
}

/// Text that names no [`Channel`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a notification channel (`email` or `in_app`)")]
pub struct ChannelError {
    pub value: String,
}

impl Channel {
    /// Every channel; also what an SLA threshold rule uses when it names none.
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::InApp];

    /// The stored spelling.
    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::InApp => "in_app",
        }
    }

    /// Whether a list of channels as an SLA rule or event carries it lets this channel
    /// through: an empty list means every channel; text that is no channel allows nothing.
    pub fn allowed_by(self, channels: &[String]) -> bool {
        channels.is_empty() || channels.iter().any(|c| c == self.as_str())
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = ChannelError;

    fn from_str(s: &str) -> Result<Channel, ChannelError> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ChannelError {
                value: s.to_owned(),
            })
    }
}

impl TryFrom<&str> for Channel {
    type Error = ChannelError;
    fn try_from(s: &str) -> Result<Channel, ChannelError> {
        s.parse()
    }
}

impl From<Channel> for String {
    fn from(c: Channel) -> String {
        c.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_stored_spellings() {
        assert_eq!("email".parse(), Ok(Channel::Email));
        assert_eq!("in_app".parse(), Ok(Channel::InApp));
        for bad in ["", "Email", "in-app", "inApp", "sms", " email"] {
            assert_eq!(
                bad.parse::<Channel>(),
                Err(ChannelError {
                    value: bad.to_owned()
                })
            );
        }
        assert_eq!(
            "sms".parse::<Channel>().unwrap_err().to_string(),
            "`sms` is not a notification channel (`email` or `in_app`)"
        );
    }

    #[test]
    fn serde_uses_the_stored_spelling() {
        for c in Channel::ALL {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), c);
            assert_eq!(c.to_string(), c.as_str());
        }
        assert!(serde_json::from_str::<Channel>("\"sms\"").is_err());
    }

    #[test]
    fn an_empty_list_allows_every_channel() {
        let list = |c: &[&str]| c.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(Channel::Email.allowed_by(&[]));
        assert!(Channel::InApp.allowed_by(&list(&["in_app"])));
        assert!(!Channel::Email.allowed_by(&list(&["in_app"])));
        assert!(!Channel::Email.allowed_by(&list(&["sms"])));
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_spellings(s in "[a-z_]{0,8}") {
            let parsed = s.parse::<Channel>();
            prop_assert_eq!(parsed.is_ok(), s == "email" || s == "in_app");
            if let Ok(c) = parsed {
                prop_assert_eq!(c.as_str(), s.as_str());
            }
        }
    }
}
