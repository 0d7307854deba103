//! Google Cloud Storage and Azure Blob Storage through `object_store`: how their stores are
//! built from a remote's settings, and the bucket (container) a push creates when the
//! service answers that it is missing.
//!
//! With `--endpoint` (an emulator, an on-prem service) and no credentials configured,
//! requests go unsigned, as emulators expect; the user's own cloud credentials are never
//! sent to an endpoint they did not configure them for.

use super::connect::Connect;
use super::{ErrorKind, RemoteError};
use crate::config::RemoteConfig;
use object_store::azure::{AzureAccessKey, AzureAuthorizer, AzureCredential};
use object_store::gcp::GcpCredential;
use object_store::{CredentialProvider, ObjectStore, RetryConfig, StaticCredentialProvider};
use std::sync::Arc;

/// A store and how to create its bucket.
pub(super) struct Cloud {
    pub store: Arc<dyn ObjectStore>,
    pub bucket: Bucket,
}

/// A bucket (GCS) or container (Azure) that a push may have to create.
pub(super) struct Bucket {
    name: String,
    /// The request that creates it, or why git-mlv cannot send one (the hint).
    create: Result<Create, String>,
    /// The remote's TLS settings and `timeout`, for the client that sends it (built only
    /// when a write was answered 404).
    connect: Connect,
}

enum Create {
    Gcs {
        url: String,
        body: String,
        credentials: Option<Arc<dyn CredentialProvider<Credential = GcpCredential>>>,
    },
    Azure {
        url: String,
        account: String,
        credential: Option<AzureCredential>,
    },
}

/// Variables that give `object_store` GCS credentials (what its `from_env` reads).
const GOOGLE_CREDENTIALS: [&str; 5] = [
    "GOOGLE_SERVICE_ACCOUNT",
    "GOOGLE_SERVICE_ACCOUNT_PATH",
    "GOOGLE_SERVICE_ACCOUNT_KEY",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "SERVICE_ACCOUNT",
];

/// Variables that give `object_store` Azure credentials.
const AZURE_CREDENTIALS: [&str; 9] = [
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_MASTER_KEY",
    "AZURE_STORAGE_SAS_KEY",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_USE_AZURE_CLI",
];

fn any_set(vars: &[&str]) -> bool {
    vars.iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// `gs://bucket/prefix`: credentials from the `GOOGLE_*` variables; `endpoint` is the
/// service's base URL (`http://127.0.0.1:4443` for an emulator).
pub(super) fn gcs(
    name: &str,
    bucket: &str,
    remote: &RemoteConfig,
    connect: &Connect,
    retry: RetryConfig,
) -> anyhow::Result<Cloud> {
    let client = connect.object_store()?;
    let mut b = object_store::gcp::GoogleCloudStorageBuilder::from_env()
        .with_bucket_name(bucket)
        .with_client_options(client)
        .with_retry(retry);
    let base = match &remote.endpoint {
        Some(endpoint) => {
            let base = endpoint.trim_end_matches('/').to_string();
            b = b.with_base_url(&base);
            if !any_set(&GOOGLE_CREDENTIALS) {
                // object_store's GCS writes ask for a token even when told to skip
                // signing: an empty one keeps it off the metadata server.
                let anonymous = GcpCredential {
                    bearer: String::new(),
                };
                b = b
                    .with_skip_signature(true)
                    .with_credentials(Arc::new(StaticCredentialProvider::new(anonymous)));
            }
            base
        }
        None => "https://storage.googleapis.com".to_string(),
    };
    let signed = remote.endpoint.is_none() || any_set(&GOOGLE_CREDENTIALS);
    let store = b
        .build()
        .map_err(|e| super::objstore::config_error(name, e))?;
    let credentials = signed.then(|| Arc::clone(store.credentials()));
    // The JSON API creates buckets; real GCS needs the project that will own it.
    let project = std::env::var("GOOGLE_CLOUD_PROJECT").ok();
    let create = match (&remote.endpoint, project) {
        (None, None) => Err(format!(
            "create it (`gcloud storage buckets create gs://{bucket}`), or set GOOGLE_CLOUD_PROJECT so that a push creates it"
        )),
        (_, project) => {
            let query = project.map(|p| format!("?project={p}")).unwrap_or_default();
            Ok(Create::Gcs {
                url: format!("{base}/storage/v1/b{query}"),
                body: serde_json::json!({ "name": bucket }).to_string(),
                credentials,
            })
        }
    };
    Ok(Cloud {
        store: Arc::new(store),
        bucket: Bucket {
            name: bucket.to_string(),
            create,
            connect: connect.clone(),
        },
    })
}

/// `az://container/prefix`: the account from the endpoint (`http://host:port/ACCOUNT`, as
/// Azurite serves, or `https://ACCOUNT.blob.core.windows.net`) or AZURE_STORAGE_ACCOUNT_NAME;
/// the shared key from the remote's `account_key` (local file) or the `AZURE_*` variables.
pub(super) fn azure(
    name: &str,
    container: &str,
    remote: &RemoteConfig,
    connect: &Connect,
    retry: RetryConfig,
) -> anyhow::Result<Cloud> {
    let client = connect.object_store()?;
    let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
        .with_container_name(container)
        .with_client_options(client)
        .with_retry(retry);
    let endpoint = remote
        .endpoint
        .as_ref()
        .map(|e| e.trim_end_matches('/').to_string());
    let account = endpoint
        .as_deref()
        .and_then(account_in_endpoint)
        .or_else(|| std::env::var("AZURE_STORAGE_ACCOUNT_NAME").ok())
        .filter(|a| !a.is_empty())
        .ok_or_else(|| {
            crate::problem::usage_with_hint(
                format!("remote `{name}` names no Azure storage account"),
                "give it in the endpoint (`--endpoint https://ACCOUNT.blob.core.windows.net`, or `http://127.0.0.1:10000/devstoreaccount1` for Azurite) or in AZURE_STORAGE_ACCOUNT_NAME",
            )
        })?;
    b = b.with_account(&account);
    if let Some(e) = &endpoint {
        b = b.with_endpoint(e.clone()).with_allow_http(true);
    }
    let key = remote.account_key.clone().or_else(|| {
        ["AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_ACCESS_KEY"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|k| !k.is_empty()))
    });
    let credential = match &key {
        Some(k) => Some(AzureCredential::AccessKey(
            AzureAccessKey::try_new(k).map_err(|_| {
                crate::problem::usage_with_hint(
                    format!("the account key of remote `{name}` is not a valid Azure shared key (base64)"),
                    format!("set it again with `git mlv remote set {name} account_key <key>`, or fix AZURE_STORAGE_ACCOUNT_KEY"),
                )
            })?,
        )),
        None => None,
    };
    if let Some(k) = &key {
        b = b.with_access_key(k);
    } else if endpoint.is_some() && !any_set(&AZURE_CREDENTIALS) {
        b = b.with_skip_signature(true);
    }
    // A container is created with the shared key, or unsigned where requests go unsigned;
    // other credentials (SAS, tokens) may not be allowed to create one.
    let create = if credential.is_some() || (endpoint.is_some() && !any_set(&AZURE_CREDENTIALS)) {
        let service = endpoint
            .clone()
            .unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"));
        Ok(Create::Azure {
            url: format!("{service}/{container}?restype=container"),
            account,
            credential,
        })
    } else {
        Err(format!(
            "create the container (`az storage container create --name {container}`)"
        ))
    };
    let store = b
        .build()
        .map_err(|e| super::objstore::config_error(name, e))?;
    Ok(Cloud {
        store: Arc::new(store),
        bucket: Bucket {
            name: container.to_string(),
            create,
            connect: connect.clone(),
        },
    })
}

/// The client that creates a bucket: a request may take the remote's `timeout` (10 s).
/// The account an Azure endpoint names: its first path segment (Azurite's
/// `http://127.0.0.1:10000/devstoreaccount1`), else `ACCOUNT` of `ACCOUNT.blob.core.windows.net`.
fn account_in_endpoint(endpoint: &str) -> Option<String> {
    let url = url::Url::parse(endpoint).ok()?;
    let first = url
        .path_segments()
        .and_then(|mut s| s.next())
        .filter(|s| !s.is_empty());
    if let Some(first) = first {
        return Some(first.to_string());
    }
    let host = url.host_str()?;
    host.strip_suffix(".blob.core.windows.net")
        .map(str::to_string)
}

impl Bucket {
    /// Creates the bucket after a write was answered 404; one that exists by now (another
    /// push made it) is fine. `url` is the remote's, for messages.
    pub(super) async fn create(&self, url: &str) -> Result<(), RemoteError> {
        let missing = |detail: String, hint: &str| {
            RemoteError::new(
                ErrorKind::Fatal,
                format!(
                    "the bucket `{}` of remote `{url}` does not exist{detail}",
                    self.name
                ),
            )
            .with_hint(hint)
        };
        let create = match &self.create {
            Ok(create) => create,
            Err(hint) => return Err(missing(String::new(), hint.as_str())),
        };
        let client = self
            .connect
            .reqwest(false)
            .and_then(|b| Ok(b.timeout(self.connect.silence()).build()?))
            .map_err(|e| missing(format!(" and cannot be created: {e}"), CREATE_IT))?;
        let request = match create {
            Create::Gcs {
                url,
                body,
                credentials,
            } => {
                let mut r = client
                    .post(url)
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some(c) = credentials {
                    let token = c
                        .get_credential()
                        .await
                        .map_err(|e| missing(format!(" and cannot be created: {e}"), CREATE_IT))?;
                    r = r.bearer_auth(&token.bearer);
                }
                r
            }
            Create::Azure {
                url,
                account,
                credential,
            } => {
                let mut signed = object_store::client::HttpRequest::new(
                    object_store::client::HttpRequestBody::empty(),
                );
                *signed.method_mut() = reqwest::Method::PUT;
                *signed.uri_mut() = url
                    .parse()
                    .map_err(|e| missing(format!(" and cannot be created: {e}"), CREATE_IT))?;
                if let Some(c) = credential {
                    AzureAuthorizer::new(c, account)
                        .try_authorize(&mut signed)
                        .map_err(|e| missing(format!(" and cannot be created: {e}"), CREATE_IT))?;
                }
                client
                    .put(url)
                    .headers(signed.headers().clone())
                    .header("content-length", "0")
            }
        };
        let answer = request
            .send()
            .await
            .map_err(|e| missing(format!(" and cannot be created: {e}"), CREATE_IT))?;
        // 409: it exists (another push created it meanwhile).
        match answer.status().as_u16() {
            200..=299 | 409 => Ok(()),
            status => {
                let text = answer.text().await.unwrap_or_default();
                let code = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                Err(missing(
                    format!(" and the server refused to create it ({status}: {code})"),
                    CREATE_IT,
                ))
            }
        }
    }
}

const CREATE_IT: &str =
    "create it with the provider's console or CLI, or check the endpoint and the credentials";

/// What to check when a GCS or Azure server refuses the credentials.
pub(super) fn check_credentials(url: &str) -> Option<&'static str> {
    if url.starts_with("gs://") {
        Some(
            "check the credentials (GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT; with `--endpoint` and none set, requests go unsigned)",
        )
    } else if url.starts_with("az://") || url.starts_with("azure://") || url.starts_with("abfs://")
    {
        Some(
            "check the credentials (the remote's `account_key` in `.mlv/config.local.toml`, or AZURE_STORAGE_ACCOUNT_KEY; with `--endpoint` and none set, requests go unsigned)",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_account_comes_from_the_endpoint() {
        assert_eq!(
            account_in_endpoint("http://127.0.0.1:10000/devstoreaccount1").as_deref(),
            Some("devstoreaccount1")
        );
        assert_eq!(
            account_in_endpoint("https://acme.blob.core.windows.net").as_deref(),
            Some("acme")
        );
        assert_eq!(account_in_endpoint("https://blob.example.com"), None);
    }
}
