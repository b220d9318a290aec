//! The token checks of `oauth.rs`, one case each, with keys made here.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use super::*;

/// One key for the whole file (generating RSA keys takes a while).
fn signer() -> &'static TokenSigner {
    static SIGNER: OnceLock<TokenSigner> = OnceLock::new();
    SIGNER.get_or_init(|| TokenSigner::generate().expect("a key"))
}

fn options() -> OAuthOptions {
    OAuthOptions::new(
        "issuer",
        "audience",
        SigningKeys::from_signer(signer().clone()),
    )
}

fn claims(lifetime: Duration) -> TokenClaims {
    TokenClaims::new(
        "alice",
        &["readers", "$ops"],
        "issuer",
        "audience",
        lifetime,
    )
}

fn check(options: &OAuthOptions, claims: &TokenClaims) -> TokenCheck {
    options.checker().check(&signer().sign(claims).unwrap())
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn a_valid_token_names_its_subject_and_roles() {
    let TokenCheck::Valid(user) = check(&options(), &claims(HOUR)) else {
        panic!("valid");
    };
    assert_eq!(user.login, "alice");
    assert_eq!(user.groups, ["readers", "$ops"]);
    assert!(!user.named, "the subject is not a name claim");
}

#[test]
fn expired_and_not_yet_valid_tokens_are_refused_past_the_clock_skew() {
    let options = options();
    let now = SystemTime::now();
    let mut expired = claims(HOUR);
    expired.expires_at = now - Duration::from_secs(400);
    assert!(matches!(check(&options, &expired), TokenCheck::Refused));
    // Within the skew (five minutes, as KurrentDB) it still counts.
    expired.expires_at = now - Duration::from_secs(60);
    assert!(matches!(check(&options, &expired), TokenCheck::Valid(_)));
    let strict = OAuthOptions {
        clock_skew: Duration::ZERO,
        ..options.clone()
    };
    assert!(matches!(check(&strict, &expired), TokenCheck::Refused));

    let mut early = claims(HOUR);
    early.not_before = Some(now + Duration::from_secs(400));
    assert!(matches!(check(&options, &early), TokenCheck::Refused));
}

#[test]
fn wrong_issuer_audience_and_signature_are_refused() {
    let options = options();
    let mut issuer = claims(HOUR);
    issuer.issuer = "someone-else".to_owned();
    assert!(matches!(check(&options, &issuer), TokenCheck::Refused));
    let lax = OAuthOptions {
        disable_issuer_validation: true,
        ..options.clone()
    };
    assert!(matches!(check(&lax, &issuer), TokenCheck::Valid(_)));

    let mut audience = claims(HOUR);
    audience.audience = "another-service".to_owned();
    assert!(matches!(check(&options, &audience), TokenCheck::Refused));
    assert!(matches!(check(&lax, &audience), TokenCheck::Refused));

    // Signed by another key (naming its own kid, then a tampered payload).
    let other = TokenSigner::generate().unwrap();
    let forged = other.sign(&claims(HOUR)).unwrap();
    assert!(matches!(
        options.checker().check(&forged),
        TokenCheck::Refused
    ));
    let token = signer().sign(&claims(HOUR)).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        br#"{"sub":"mallory","role":"$admins","iss":"issuer","aud":"audience","exp":99999999999}"#,
    );
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert!(matches!(
        options.checker().check(&tampered),
        TokenCheck::Refused
    ));
}

#[test]
fn tokens_without_expiry_or_audience_and_unsigned_ones_are_refused() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let options = options();
    let unsigned = |header: &str, payload: &str| {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        )
    };
    let none = unsigned(
        r#"{"alg":"none"}"#,
        r#"{"sub":"x","iss":"issuer","aud":"audience","exp":99999999999}"#,
    );
    assert!(matches!(
        options.checker().check(&none),
        TokenCheck::Refused
    ));
    let hs = unsigned(
        r#"{"alg":"HS256"}"#,
        r#"{"sub":"x","iss":"issuer","aud":"audience","exp":99999999999}"#,
    );
    assert!(matches!(options.checker().check(&hs), TokenCheck::Refused));

    // Signed, but without `exp` / `aud`.
    let header = jsonwebtoken::Header {
        kid: Some(signer().key_id().to_owned()),
        ..jsonwebtoken::Header::new(Algorithm::RS256)
    };
    for payload in [
        serde_json::json!({"sub": "x", "iss": "issuer", "aud": "audience"}),
        serde_json::json!({"sub": "x", "iss": "issuer", "exp": 99_999_999_999u64}),
    ] {
        let token = jsonwebtoken::encode(&header, &payload, &signer().encoding).unwrap();
        assert!(
            matches!(options.checker().check(&token), TokenCheck::Refused),
            "{payload}"
        );
    }
}

#[test]
fn what_is_not_a_jwt_is_malformed() {
    let checker = options().checker();
    for bad in [
        "",
        "abc",
        "a.b",
        "a.b.c",
        "e30.e30",
        "e30.e30.e30.e30",
        "!!.e30.x",
    ] {
        assert!(
            matches!(checker.check(bad), TokenCheck::Malformed),
            "{bad:?}"
        );
    }
}

#[test]
fn roles_from_role_and_roles_claims_and_the_name_from_unique_name() {
    let header = jsonwebtoken::Header {
        kid: Some(signer().key_id().to_owned()),
        ..jsonwebtoken::Header::new(Algorithm::RS256)
    };
    let payload = serde_json::json!({
        "sub": "id-42", "unique_name": "bob", "role": "a", "roles": ["b", 3, "c"],
        "iss": "issuer", "aud": ["audience", "other"], "exp": 99_999_999_999u64,
    });
    let token = jsonwebtoken::encode(&header, &payload, &signer().encoding).unwrap();
    let TokenCheck::Valid(user) = options().checker().check(&token) else {
        panic!("valid");
    };
    assert_eq!(user.login, "bob");
    assert!(user.named);
    assert_eq!(user.groups, ["a", "b", "c"]);
}

#[test]
fn keys_round_trip_through_jwks_and_pem() {
    let jwks = signer().jwks();
    let from_jwks = OAuthOptions::new("issuer", "audience", SigningKeys::from_jwks(&jwks).unwrap());
    assert!(matches!(
        check(&from_jwks, &claims(HOUR)),
        TokenCheck::Valid(_)
    ));
    assert!(
        from_jwks.mint_token("x", &[], HOUR).is_err(),
        "public keys cannot sign"
    );

    let again = TokenSigner::from_private_key_pem(signer().private_key_pem()).unwrap();
    assert_eq!(again.key_id(), signer().key_id());
    let token = again.sign(&claims(HOUR)).unwrap();
    assert!(matches!(
        options().checker().check(&token),
        TokenCheck::Valid(_)
    ));

    assert!(SigningKeys::from_jwks("{}").is_err());
    assert!(SigningKeys::from_jwks(r#"{"keys": []}"#).is_err());
    assert!(SigningKeys::from_public_key_pem("not a key").is_err());
    assert!(TokenSigner::from_private_key_pem("not a key").is_err());
    assert!(!format!("{:?}", signer()).contains("PRIVATE"));
}
