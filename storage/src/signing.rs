//! How requests to an account are signed (reqsign providers, one chain per client).

use std::time::Duration;

use reqsign_azure_storage::{Credential as SigningCredential, StaticCredentialProvider};
use reqsign_core::ProvideCredentialChain;

use crate::account::{Account, Credential};
use crate::error::Result;
use crate::identity::TokenProvider;

/// The credential providers for `account`; `None` when requests go unsigned (anonymous).
pub(crate) fn credential_chain(account: &Account, timeout: Duration) -> Result<Option<ProvideCredentialChain<SigningCredential>>> {
    let chain = ProvideCredentialChain::new();
    Ok(Some(match &account.credential {
        Credential::SharedKey(key) => chain.push(StaticCredentialProvider::new_shared_key(&account.name, key)),
        Credential::Sas(token) => chain.push(StaticCredentialProvider::new_sas_token(token.trim_start_matches('?'))),
        Credential::Token(source) => chain.push(TokenProvider::new(source, timeout)?),
        Credential::Anonymous => return Ok(None),
    }))
}
