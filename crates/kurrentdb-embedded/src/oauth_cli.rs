//! The binary's (`main.rs`) OAuth options (`--oauth-*`, KurrentDB's `OAuth` settings as
//! flags) and its `token` command, which mints a token with a signing key
//! file for local OAuth setups.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kurrentdb_embedded::security::{OAuthOptions, SigningKeys, TokenClaims, TokenSigner};

/// The issuer and audience of tokens signed with `--oauth-signing-key-file`
/// when none are given (those of `OAuthOptions::dev`).
const DEV_ISSUER: &str = "kurrentdb-embedded";
const DEV_AUDIENCE: &str = "kurrentdb";

pub(crate) const USAGE: &str = "\
OAuth (bearer access tokens, checked as KurrentDB's OAuth authentication does;
secure modes only, beside users and user certificates):
  --oauth-issuer ISSUER, --oauth-audience AUDIENCE
                   what tokens must name in iss and aud (KurrentDB's Issuer, Audience)
  --oauth-disable-issuer-validation [true|false]
                   accept any issuer (KurrentDB's DisableIssuerValidation)
  --oauth-jwks-file FILE | --oauth-public-key-file FILE (PEM)
                   the identity provider's signing keys (KurrentDB fetches them
                   from the provider; this server reads them from a file)
  --oauth-signing-key-file FILE
                   for local setups: an RSA private key (PEM), generated and written
                   there when the file does not exist; issuer and audience default
                   to kurrentdb-embedded and kurrentdb. Mint tokens with it:
kurrentdb-embedded token --signing-key-file FILE --sub NAME [--role ROLE]...
                   [--lifetime SECONDS (3600)] [--issuer ISSUER] [--audience AUDIENCE]
                   prints a token (roles as stream ACLs name them: $admins, $ops, ...);
                   clients send it as `authorization: Bearer <token>`.";

/// The `--oauth-*` flags given.
#[derive(Debug, Default)]
pub(crate) struct OAuthFlags {
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) disable_issuer_validation: bool,
    pub(crate) jwks_file: Option<PathBuf>,
    pub(crate) public_key_file: Option<PathBuf>,
    pub(crate) signing_key_file: Option<PathBuf>,
}

impl OAuthFlags {
    /// Whether any flag was given.
    pub(crate) fn any(&self) -> bool {
        self.issuer.is_some()
            || self.audience.is_some()
            || self.disable_issuer_validation
            || self.jwks_file.is_some()
            || self.public_key_file.is_some()
            || self.signing_key_file.is_some()
    }

    /// The OAuth options the flags describe, `None` without flags.
    pub(crate) fn resolve(&self) -> Result<Option<OAuthOptions>, String> {
        if !self.any() {
            return Ok(None);
        }
        let read = |path: &Path| {
            std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        let e = |e: kurrentdb_embedded::security::OAuthError| e.to_string();
        let (keys, dev) = match (
            &self.jwks_file,
            &self.public_key_file,
            &self.signing_key_file,
        ) {
            (Some(jwks), None, None) => (SigningKeys::from_jwks(&read(jwks)?).map_err(e)?, false),
            (None, Some(pem), None) => (
                SigningKeys::from_public_key_pem(&read(pem)?).map_err(e)?,
                false,
            ),
            (None, None, Some(key)) => (SigningKeys::from_signer(signing_key(key, true)?), true),
            (None, None, None) => {
                return Err(
                    "OAuth needs keys: --oauth-jwks-file, --oauth-public-key-file or \
                            --oauth-signing-key-file"
                        .into(),
                );
            }
            _ => {
                return Err(
                    "give one of --oauth-jwks-file, --oauth-public-key-file and \
                            --oauth-signing-key-file"
                        .into(),
                );
            }
        };
        let value = |given: &Option<String>, default: &str, flag: &str| match given {
            Some(v) => Ok(v.clone()),
            None if dev => Ok(default.to_owned()),
            None => Err(format!(
                "{flag} is required with --oauth-jwks-file or --oauth-public-key-file"
            )),
        };
        let issuer = if self.disable_issuer_validation {
            self.issuer.clone().unwrap_or_default()
        } else {
            value(&self.issuer, DEV_ISSUER, "--oauth-issuer")?
        };
        let mut options = OAuthOptions::new(
            issuer,
            value(&self.audience, DEV_AUDIENCE, "--oauth-audience")?,
            keys,
        );
        options.disable_issuer_validation = self.disable_issuer_validation;
        Ok(Some(options))
    }
}

/// The signing key in `path`; when there is none and `create`, a new one
/// written there (owner-only where the system allows).
fn signing_key(path: &Path, create: bool) -> Result<TokenSigner, String> {
    match std::fs::read_to_string(path) {
        Ok(pem) => {
            TokenSigner::from_private_key_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
        }
        Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
            let signer = TokenSigner::generate().map_err(|e| e.to_string())?;
            write_private(path, signer.private_key_pem())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            tracing::warn!(
                "OAuth signing key generated and saved to {} (for development only)",
                path.display()
            );
            Ok(signer)
        }
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    file.open(path)?.write_all(text.as_bytes())
}

/// `kurrentdb-embedded token ...`: the token, or what is wrong.
pub(crate) fn token_command(mut args: impl Iterator<Item = String>) -> Result<String, String> {
    let mut key = None;
    let mut subject = None;
    let mut roles = Vec::new();
    let mut lifetime = Duration::from_secs(3600);
    let mut issuer = DEV_ISSUER.to_owned();
    let mut audience = DEV_AUDIENCE.to_owned();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((k, v)) => (k.to_owned(), Some(v.to_owned())),
            None => (arg, None),
        };
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{name} needs a value"))?;
        match name.as_str() {
            "--signing-key-file" => key = Some(PathBuf::from(value)),
            "--sub" => subject = Some(value),
            "--role" => roles.push(value),
            "--lifetime" => {
                lifetime = value
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .map(Duration::from_secs)
                    .ok_or_else(|| format!("invalid lifetime: {value} (seconds, at least 1)"))?;
            }
            "--issuer" => issuer = value,
            "--audience" => audience = value,
            other => return Err(format!("unknown token argument: {other}")),
        }
    }
    let key = key.ok_or("--signing-key-file is required")?;
    let subject = subject.ok_or("--sub is required")?;
    let signer = signing_key(&key, false)?;
    let roles: Vec<&str> = roles.iter().map(String::as_str).collect();
    signer
        .sign(&TokenClaims::new(
            &subject, &roles, &issuer, &audience, lifetime,
        ))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn a_signing_key_file_is_made_once_and_mints_tokens() {
        let dir = std::env::temp_dir().join(format!("kdb-oauth-{}", std::process::id()));
        let key = dir.join("signing.pem");
        let _ = std::fs::remove_file(&key);
        let flags = OAuthFlags {
            signing_key_file: Some(key.clone()),
            ..OAuthFlags::default()
        };
        let options = flags.resolve().unwrap().expect("options");
        assert_eq!(
            (options.issuer.as_str(), options.audience.as_str()),
            (DEV_ISSUER, DEV_AUDIENCE)
        );
        let again = flags.resolve().unwrap().unwrap();
        let kid = |o: &OAuthOptions| o.keys.signer().unwrap().key_id().to_owned();
        assert_eq!(kid(&options), kid(&again), "the file is reused");

        let key_arg = key.display().to_string();
        let token = token_command(args(&[
            "--signing-key-file",
            &key_arg,
            "--sub",
            "alice",
            "--role",
            "$admins",
            "--lifetime=60",
        ]))
        .unwrap();
        assert_eq!(token.split('.').count(), 3);
        for bad in [
            &["--sub", "alice"][..],
            &["--signing-key-file", &key_arg],
            &[
                "--signing-key-file",
                &key_arg,
                "--sub",
                "a",
                "--lifetime",
                "0",
            ],
            &["--signing-key-file", &key_arg, "--sub", "a", "--what", "x"],
            &["--signing-key-file", "/nonexistent/key.pem", "--sub", "a"],
        ] {
            assert!(token_command(args(bad)).is_err(), "{bad:?}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn public_keys_need_an_issuer_and_an_audience_and_one_source() {
        assert!(OAuthFlags::default().resolve().unwrap().is_none());
        let issuer_only = OAuthFlags {
            issuer: Some("i".into()),
            ..OAuthFlags::default()
        };
        assert!(issuer_only.resolve().is_err());
        let dir = std::env::temp_dir().join(format!("kdb-oauth-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let jwks = dir.join("jwks.json");
        std::fs::write(&jwks, TokenSigner::generate().unwrap().jwks()).unwrap();
        let mut flags = OAuthFlags {
            jwks_file: Some(jwks.clone()),
            ..OAuthFlags::default()
        };
        assert!(flags.resolve().is_err(), "no issuer nor audience");
        flags.issuer = Some("https://idp".into());
        flags.audience = Some("kurrentdb".into());
        assert!(flags.resolve().unwrap().is_some());
        flags.public_key_file = Some(jwks);
        assert!(flags.resolve().is_err(), "two sources");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
