//! Credentials Stratus mints for function instances: temporary `ASIA…` key pairs with a session
//! token, one per instance, remembered with the role and function they stand for so the AWS
//! endpoint can map a request back to its principal.

use std::collections::HashMap;
use std::sync::Mutex;

use stratus_lambda::ids::random_u64;
use stratus_lambda::{CredentialIssuer, Credentials, FunctionConfig};

/// Who a minted key belongs to.
#[derive(Clone, Debug)]
pub struct Principal {
    pub role_arn: String,
    pub function: String,
    pub secret_access_key: String,
    pub session_token: String,
}

#[derive(Default)]
pub struct LocalCredentials {
    issued: Mutex<HashMap<String, Principal>>,
}

impl LocalCredentials {
    pub fn principal(&self, access_key_id: &str) -> Option<Principal> {
        self.issued.lock().ok()?.get(access_key_id).cloned()
    }
}

/// `length` characters from `alphabet`, from fresh random bits.
fn random_text(alphabet: &[u8], length: usize) -> String {
    let mut text = String::with_capacity(length);
    let mut bits = random_u64();
    let mut left = 10;
    for _ in 0..length {
        if left == 0 {
            bits = random_u64();
            left = 10;
        }
        text.push(char::from(alphabet[(bits % alphabet.len() as u64) as usize]));
        bits /= alphabet.len() as u64;
        left -= 1;
    }
    text
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl CredentialIssuer for LocalCredentials {
    fn issue(&self, function: &FunctionConfig, _instance: u64) -> Credentials {
        let credentials = Credentials {
            access_key_id: format!("ASIA{}", random_text(UPPER_DIGITS, 16)),
            secret_access_key: random_text(SECRET, 40),
            session_token: format!("IQoJb3JpZ2luX2VjE{}", random_text(SECRET, 180)),
        };
        if let Ok(mut issued) = self.issued.lock() {
            issued.insert(
                credentials.access_key_id.clone(),
                Principal {
                    role_arn: function.role_arn.clone(),
                    function: function.name.clone(),
                    secret_access_key: credentials.secret_access_key.clone(),
                    session_token: credentials.session_token.clone(),
                },
            );
        }
        credentials
    }

    fn revoke(&self, access_key_id: &str) {
        if let Ok(mut issued) = self.issued.lock() {
            issued.remove(access_key_id);
        }
    }
}
