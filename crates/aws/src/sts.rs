//! STS over the query protocol: `GetCallerIdentity`, which tells a caller who its credentials
//! make it (the administrator's account root, or a function's role session). It needs no
//! permission, as on AWS.

use stratus_iam::Principal;
use stratus_iam::sigv4::{AuthError, percent_decode};

use crate::iam::{Caller, Iam};

/// Largest query-protocol body read.
pub const REQUEST_BYTES_MAX: usize = 64 * 1024;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `a=1&b=2` → pairs, decoded.
pub fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn error(status: u16, kind: &str, code: &str, message: &str, request_id: &str) -> Answer {
    let body = format!(
        "<ErrorResponse xmlns=\"{NAMESPACE}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        escape(message)
    );
    Answer {
        status,
        body: body.into_bytes(),
    }
}

/// An authentication failure as STS words it.
pub fn auth_error(failure: &AuthError, request_id: &str) -> Answer {
    let (status, code) = match failure {
        AuthError::MissingAuthenticationToken => (403, "MissingAuthenticationToken"),
        AuthError::IncompleteSignature(_) => (400, "IncompleteSignature"),
        AuthError::InvalidSignature(_) => (403, "SignatureDoesNotMatch"),
        AuthError::UnrecognizedClient(_) => (403, "InvalidClientTokenId"),
    };
    error(status, "Sender", code, &failure.message(), request_id)
}

pub fn handle(iam: &Iam, caller: Option<&Caller>, parameters: &[(String, String)], request_id: &str) -> Answer {
    let action = parameters
        .iter()
        .find(|(key, _)| key == "Action")
        .map(|(_, value)| value.as_str())
        .unwrap_or("");
    if action != "GetCallerIdentity" {
        let message = format!("Could not find operation {action} for version 2011-06-15");
        return error(400, "Sender", "InvalidAction", &message, request_id);
    }
    // With IAM off nobody is identified: answer as the administrator.
    let (arn, user_id, account) = match caller {
        Some(caller) => (
            caller.principal.arn(),
            caller.principal.user_id(),
            caller.principal.account().to_string(),
        ),
        None => {
            let account = iam.credentials.account().to_string();
            let root = Principal::Admin {
                access_key_id: String::new(),
                account: account.clone(),
            };
            (root.arn(), root.user_id(), account)
        }
    };
    let body = format!(
        "<GetCallerIdentityResponse xmlns=\"{NAMESPACE}\">\n  <GetCallerIdentityResult>\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>{request_id}</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
        escape(&arn),
        escape(&user_id),
        escape(&account)
    );
    Answer {
        status: 200,
        body: body.into_bytes(),
    }
}
