//! Who may call: the administrator key pair, and the temporary credentials minted for each
//! function instance (an `ASIA…` key, a secret and a session token standing for the function's
//! role session).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::policy::Policy;
use crate::secret::Secret;
use crate::sigv4::{AuthError, Signature};

/// An authenticated caller.
#[derive(Clone, Debug)]
pub enum Principal {
    /// The administrator key: allowed everything.
    Admin { access_key_id: String, account: String },
    /// A function's role session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/FUNCTION`.
    Role {
        access_key_id: String,
        account: String,
        role_arn: String,
        role_name: String,
        function: String,
        policies: Arc<Vec<Policy>>,
        /// Whether the policies read the request context (conditions, policy variables).
        reads_context: bool,
    },
}

impl Principal {
    /// The ARN denial messages and `aws:PrincipalArn` show.
    pub fn arn(&self) -> String {
        match self {
            Principal::Admin { account, .. } => format!("arn:aws:iam::{account}:root"),
            Principal::Role {
                account,
                role_name,
                function,
                ..
            } => format!("arn:aws:sts::{account}:assumed-role/{role_name}/{function}"),
        }
    }

    /// `aws:userid`: the account for the root, `ROLEID:session` for a role session.
    pub fn user_id(&self) -> String {
        match self {
            Principal::Admin { account, .. } => account.clone(),
            Principal::Role {
                role_name, function, ..
            } => format!("AROA{}:{function}", role_id(role_name)),
        }
    }

    pub fn account(&self) -> &str {
        match self {
            Principal::Admin { account, .. } | Principal::Role { account, .. } => account,
        }
    }

    /// Whether deciding this caller's requests reads their condition keys.
    pub fn reads_context(&self) -> bool {
        matches!(
            self,
            Principal::Role {
                reads_context: true,
                ..
            }
        )
    }

    pub fn function(&self) -> Option<&str> {
        match self {
            Principal::Role { function, .. } => Some(function),
            Principal::Admin { .. } => None,
        }
    }
}

/// A stable 17-character role id (AWS's are `AROA` + 17 characters).
fn role_id(role_name: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in role_name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..17)
        .map(|i| char::from(ALPHABET[((hash >> ((i * 5) % 60)) & 31) as usize]))
        .collect()
}

struct Issued {
    secret: Secret,
    session_token: String,
    principal: Arc<Principal>,
}

/// Every key Stratus accepts.
pub struct Credentials {
    account: String,
    admin_key: String,
    admin_secret: Secret,
    admin: Arc<Principal>,
    issued: RwLock<HashMap<String, Issued>>,
}

/// Minted credentials, handed to one instance.
#[derive(Clone, Debug)]
pub struct Minted {
    pub access_key_id: String,
    pub secret: Secret,
    pub session_token: String,
}

impl Credentials {
    pub fn new(account: &str, admin_key: &str, admin_secret: &str) -> Credentials {
        Credentials {
            account: account.to_string(),
            admin_key: admin_key.to_string(),
            admin_secret: Secret::new(admin_secret),
            admin: Arc::new(Principal::Admin {
                access_key_id: admin_key.to_string(),
                account: account.to_string(),
            }),
            issued: RwLock::new(HashMap::new()),
        }
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// Mints credentials for a function's role, from caller-supplied random text.
    pub fn mint(&self, role_arn: &str, function: &str, policies: Arc<Vec<Policy>>, random: [String; 3]) -> Minted {
        let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn).to_string();
        let [key, secret, token] = random;
        let minted = Minted {
            access_key_id: format!("ASIA{key}"),
            secret: Secret::new(secret),
            session_token: token,
        };
        let principal = Principal::Role {
            access_key_id: minted.access_key_id.clone(),
            account: self.account.clone(),
            role_arn: role_arn.to_string(),
            role_name,
            function: function.to_string(),
            reads_context: crate::evaluate::reads_context(&policies),
            policies,
        };
        if let Ok(mut issued) = self.issued.write() {
            issued.insert(
                minted.access_key_id.clone(),
                Issued {
                    secret: minted.secret.clone(),
                    session_token: minted.session_token.clone(),
                    principal: Arc::new(principal),
                },
            );
        }
        minted
    }

    pub fn revoke(&self, access_key_id: &str) {
        if let Ok(mut issued) = self.issued.write() {
            issued.remove(access_key_id);
        }
    }

    /// Finds the caller of a parsed signature: the key must be known and, for temporary
    /// credentials, the session token must be theirs.
    pub fn authenticate(&self, signature: &Signature<'_>) -> Result<(Secret, Arc<Principal>), AuthError> {
        if signature.access_key_id == self.admin_key {
            return Ok((self.admin_secret.clone(), Arc::clone(&self.admin)));
        }
        let issued = self.issued.read().map_err(|_| AuthError::unknown_key())?;
        let Some(entry) = issued.get(signature.access_key_id.as_ref()) else {
            return Err(AuthError::unknown_key());
        };
        if signature.security_token.as_deref() != Some(entry.session_token.as_str()) {
            return Err(AuthError::UnrecognizedClient(
                "The security token included in the request is invalid.".to_string(),
            ));
        }
        Ok((entry.secret.clone(), Arc::clone(&entry.principal)))
    }

    /// The principal a key stands for, without a signature (the Runtime API knows its own).
    pub fn principal(&self, access_key_id: &str) -> Option<Arc<Principal>> {
        self.issued
            .read()
            .ok()?
            .get(access_key_id)
            .map(|i| Arc::clone(&i.principal))
    }
}
