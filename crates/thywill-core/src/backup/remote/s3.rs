//! S3-compatible object storage as a remote, through `object_store` (feature `s3`).
//!
//! The store is always built from explicit values: endpoint, region and credentials. There is
//! no `from_env()` and no credential chain, so nothing ever asks the cloud metadata address.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use sha2::{Digest, Sha256};

use super::{RemoteObject, RemoteSpec, RemoteTarget, S3Credentials};
use crate::backup::files::{self, IO_CHUNK};
use crate::progress::{self, Progress};
use crate::{Error, Result};

/// Files larger than this are uploaded in parts.
const MULTIPART_THRESHOLD: u64 = 32 << 20;
const PART_SIZE: usize = 16 << 20;

/// A bucket (and prefix) on an S3-compatible service.
pub struct S3Target {
    store: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Runtime,
    bucket: String,
    prefix: String,
    endpoint: Option<String>,
}

impl std::fmt::Debug for S3Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

fn remote_error(e: impl std::fmt::Display) -> Error {
    Error::Remote(e.to_string())
}

fn map_store_error(e: object_store::Error, what: &str) -> Error {
    match e {
        object_store::Error::NotFound { .. } => Error::NotFound {
            what: what.to_string(),
        },
        other => Error::Remote(format!("{what}: {other}")),
    }
}

impl S3Target {
    /// Builds a target from an [`RemoteSpec::S3`] and explicit credentials.
    pub fn new(spec: &RemoteSpec, credentials: &S3Credentials) -> Result<S3Target> {
        let RemoteSpec::S3 {
            bucket,
            prefix,
            endpoint,
            region,
            allow_http,
        } = spec
        else {
            return Err(Error::InvalidInput("not an S3 remote".into()));
        };
        // reqwest is built without a crypto provider (ring instead of aws-lc saves a long C
        // build); install ring once per process. A second install attempt is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(region.clone().unwrap_or_else(|| "us-east-1".into()))
            .with_access_key_id(&credentials.access_key_id)
            .with_secret_access_key(&credentials.secret_access_key)
            .with_allow_http(*allow_http);
        if let Some(token) = &credentials.session_token {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        let store = builder.build().map_err(remote_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::Internal(format!("tokio runtime: {e}")))?;
        Ok(S3Target {
            store: Arc::new(store),
            runtime,
            bucket: bucket.clone(),
            prefix: prefix.clone(),
            endpoint: endpoint.clone(),
        })
    }

    fn location(&self, key: &str) -> Result<ObjectPath> {
        let full = if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        };
        ObjectPath::parse(&full).map_err(|e| Error::InvalidInput(format!("bad key {full:?}: {e}")))
    }
}

impl RemoteTarget for S3Target {
    fn describe(&self) -> String {
        let mut s = format!("s3://{}", self.bucket);
        if !self.prefix.is_empty() {
            s.push('/');
            s.push_str(&self.prefix);
        }
        if let Some(e) = &self.endpoint {
            s.push_str(&format!(" ({e})"));
        }
        s
    }

    fn put_file(&self, local: &Path, key: &str, progress: &dyn Progress) -> Result<()> {
        let location = self.location(key)?;
        let mut file = File::open(local).map_err(|e| Error::io(local, e))?;
        let total = file.metadata().map_err(|e| Error::io(local, e))?.len();
        if total <= MULTIPART_THRESHOLD {
            let mut bytes = Vec::with_capacity(total as usize);
            file.read_to_end(&mut bytes)
                .map_err(|e| Error::io(local, e))?;
            self.runtime
                .block_on(self.store.put(&location, PutPayload::from(bytes)))
                .map_err(|e| map_store_error(e, key))?;
            return progress::report(progress, "upload", total, Some(total));
        }
        self.runtime.block_on(async {
            let upload = self
                .store
                .put_multipart(&location)
                .await
                .map_err(|e| map_store_error(e, key))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
            let mut buf = vec![0u8; PART_SIZE];
            let mut done = 0u64;
            let outcome: Result<()> = async {
                loop {
                    let n = file.read(&mut buf).map_err(|e| Error::io(local, e))?;
                    if n == 0 {
                        break;
                    }
                    writer
                        .wait_for_capacity(4)
                        .await
                        .map_err(|e| map_store_error(e, key))?;
                    writer.write(&buf[..n]);
                    done += n as u64;
                    progress::report(progress, "upload", done, Some(total))?;
                }
                Ok(())
            }
            .await;
            match outcome {
                Ok(()) => writer
                    .finish()
                    .await
                    .map(|_| ())
                    .map_err(|e| map_store_error(e, key)),
                Err(e) => {
                    let _ = writer.abort().await;
                    Err(e)
                }
            }
        })
    }

    fn get_file(&self, key: &str, local: &Path, progress: &dyn Progress) -> Result<()> {
        let location = self.location(key)?;
        let mut out = files::create_private_file(local)?;
        self.runtime.block_on(async {
            let result = self
                .store
                .get(&location)
                .await
                .map_err(|e| map_store_error(e, key))?;
            let total = result.meta.size;
            let mut stream = result.into_stream();
            let mut done = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| map_store_error(e, key))?;
                out.write_all(&chunk).map_err(|e| Error::io(local, e))?;
                done += chunk.len() as u64;
                progress::report(progress, "download", done, Some(total))?;
            }
            Ok::<(), Error>(())
        })?;
        out.sync_all().map_err(|e| Error::io(local, e))
    }

    fn hash_object(&self, key: &str, progress: &dyn Progress) -> Result<(String, u64)> {
        let location = self.location(key)?;
        self.runtime.block_on(async {
            let result = self
                .store
                .get(&location)
                .await
                .map_err(|e| map_store_error(e, key))?;
            let total = result.meta.size;
            let mut stream = result.into_stream();
            let mut hasher = Sha256::new();
            let mut done = 0u64;
            let mut since_report = 0usize;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| map_store_error(e, key))?;
                hasher.update(&chunk);
                done += chunk.len() as u64;
                since_report += chunk.len();
                if since_report >= IO_CHUNK {
                    since_report = 0;
                    progress::report(progress, "remote_hash", done, Some(total))?;
                }
            }
            Ok((hex::encode(hasher.finalize()), done))
        })
    }

    fn read(&self, key: &str) -> Result<Vec<u8>> {
        let location = self.location(key)?;
        self.runtime.block_on(async {
            let result = self
                .store
                .get(&location)
                .await
                .map_err(|e| map_store_error(e, key))?;
            let bytes = result.bytes().await.map_err(|e| map_store_error(e, key))?;
            Ok(bytes.to_vec())
        })
    }

    fn write(&self, key: &str, bytes: &[u8]) -> Result<()> {
        let location = self.location(key)?;
        self.runtime
            .block_on(self.store.put(&location, PutPayload::from(bytes.to_vec())))
            .map(|_| ())
            .map_err(|e| map_store_error(e, key))
    }

    fn list(&self) -> Result<Vec<RemoteObject>> {
        let prefix =
            if self.prefix.is_empty() {
                None
            } else {
                Some(ObjectPath::parse(&self.prefix).map_err(|e| {
                    Error::InvalidInput(format!("bad prefix {:?}: {e}", self.prefix))
                })?)
            };
        let strip = if self.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.prefix)
        };
        self.runtime.block_on(async {
            let mut stream = self.store.list(prefix.as_ref());
            let mut out = Vec::new();
            while let Some(meta) = stream.next().await {
                let meta = meta.map_err(|e| map_store_error(e, "list"))?;
                let full = meta.location.to_string();
                let key = full.strip_prefix(&strip).unwrap_or(&full).to_string();
                out.push(RemoteObject {
                    key,
                    size: meta.size,
                });
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
    }

    fn delete(&self, key: &str) -> Result<()> {
        let location = self.location(key)?;
        match self.runtime.block_on(self.store.delete(&location)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(map_store_error(e, key)),
        }
    }
}
