//! Credentials Stratus mints for function instances: temporary `ASIA…` key pairs with a session
//! token, one per instance, registered with IAM with the role and policies they stand for, and
//! revoked when the instance stops (so a restarted instance gets fresh ones).

use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;

use stratus_iam::Policy;
use stratus_lambda::ids::random_u64;
use stratus_lambda::{CredentialIssuer, Credentials, FunctionConfig};

/// The administrator key pair the AWS endpoint accepts (as the brief and LocalStack use).
pub const ADMIN_ACCESS_KEY_ID: &str = "test";
pub const ADMIN_SECRET_ACCESS_KEY: &str = "test";

pub struct FunctionCredentials {
    iam: Arc<stratus_iam::Credentials>,
    /// Each function's role policies, by function name.
    policies: HashMap<String, Arc<Vec<Policy>>>,
}

impl FunctionCredentials {
    pub fn new(iam: Arc<stratus_iam::Credentials>, policies: HashMap<String, Arc<Vec<Policy>>>) -> FunctionCredentials {
        FunctionCredentials { iam, policies }
    }
}

/// `length` characters from `alphabet`, from the system's random source (falling back to the
/// process's own generator).
fn random_text(alphabet: &[u8], length: usize) -> String {
    let mut bytes = vec![0u8; length];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .is_ok();
    if !filled {
        for chunk in bytes.chunks_mut(8) {
            let bits = random_u64().to_le_bytes();
            chunk.copy_from_slice(&bits[..chunk.len()]);
        }
    }
    bytes
        .iter()
        .map(|byte| char::from(alphabet[usize::from(*byte) % alphabet.len()]))
        .collect()
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl CredentialIssuer for FunctionCredentials {
    fn issue(&self, function: &FunctionConfig, _instance: u64) -> Credentials {
        let policies = self.policies.get(&function.name).cloned().unwrap_or_default();
        let minted = self.iam.mint(
            &function.role_arn,
            &function.name,
            policies,
            [
                random_text(UPPER_DIGITS, 16),
                random_text(SECRET, 40),
                format!("IQoJb3JpZ2luX2VjE{}", random_text(SECRET, 180)),
            ],
        );
        Credentials {
            access_key_id: minted.access_key_id,
            secret_access_key: minted.secret.expose().to_string(),
            session_token: minted.session_token,
        }
    }

    fn revoke(&self, access_key_id: &str) {
        self.iam.revoke(access_key_id);
    }
}
