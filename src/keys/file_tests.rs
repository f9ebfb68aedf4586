use std::fs;
use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::keys::SigningPair;

const OVERLAP: i64 = 1_000;

fn active_kid(ring: &KeyFile, alg: Alg) -> String {
    let key = ring.active(alg).unwrap();
    SigningPair::from_der(key.alg, &key.private).unwrap().kid
}

#[test]
fn a_new_ring_is_kept_owner_only_and_reopened_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let first = KeyFile::open(&path, &[Alg::EdDSA], 100, OVERLAP, true).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    let second = KeyFile::open(&path, &[Alg::EdDSA], 200, OVERLAP, true).unwrap();
    assert_eq!(first.master.id, second.master.id);
    assert_eq!(active_kid(&first, Alg::EdDSA), active_kid(&second, Alg::EdDSA));
    assert_eq!(second.keys.len(), 1);
    assert!(first.legacy_hs256_until.is_none());
}

#[test]
fn a_key_file_of_an_earlier_version_keeps_its_secret_and_gains_a_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let legacy = [7u8; 32];
    fs::write(&path, URL_SAFE_NO_PAD.encode(legacy)).unwrap();
    let ring = KeyFile::open(&path, &[Alg::EdDSA], 100, OVERLAP, true).unwrap();
    assert_eq!(ring.master.signing_bytes(), legacy);
    assert_eq!(ring.legacy_hs256_until, Some(100));
    assert_eq!(ring.active(Alg::EdDSA).unwrap().alg, Alg::EdDSA);
    let reread = KeyFile::parse(&fs::read_to_string(&path).unwrap(), &path).unwrap().unwrap();
    assert_eq!(reread.master.id, ring.master.id);
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn a_rotation_retires_the_active_key_which_leaves_after_the_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let first = KeyFile::open(&path, &[Alg::EdDSA], 100, OVERLAP, true).unwrap();
    let second = KeyFile::rotate_file(&path, &[Alg::ES256], 200, OVERLAP).unwrap();
    assert_eq!(second.master.id, first.master.id, "a rotation never changes the server secret");
    assert_eq!(second.keys.len(), 2);
    assert_eq!(second.keys[0].retired, Some(200));
    assert!(second.active(Alg::EdDSA).is_none());
    assert_ne!(active_kid(&second, Alg::ES256), active_kid(&first, Alg::EdDSA));
    let third = KeyFile::rotate_file(&path, &[Alg::EdDSA], 200 + OVERLAP + 1, OVERLAP).unwrap();
    assert_eq!(third.keys.len(), 2, "the first key has left the ring");
    assert_eq!(third.keys[0].alg, Alg::ES256);
}

#[test]
fn a_changed_algorithm_rotates_only_when_serving() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    KeyFile::open(&path, &[Alg::EdDSA], 100, OVERLAP, true).unwrap();
    let listed = KeyFile::open(&path, &[Alg::RS256], 110, OVERLAP, false).unwrap();
    assert!(listed.active(Alg::RS256).is_none() && listed.active(Alg::EdDSA).is_some());
    let served = KeyFile::open(&path, &[Alg::RS256], 120, OVERLAP, true).unwrap();
    assert!(served.active(Alg::RS256).is_some() && served.active(Alg::EdDSA).is_none());
    assert_eq!(served.keys.len(), 2);
    let again = KeyFile::open(&path, &[Alg::RS256], 130, OVERLAP, true).unwrap();
    assert_eq!(again.keys.len(), 2, "a second start does not rotate again");
}

/// SPEC §11: one active key per algorithm in use — the access tokens' and the ID tokens'
/// (RS256). A rotation renews each; a changed access algorithm retires only its old key.
#[test]
fn each_algorithm_in_use_has_its_own_active_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let first = KeyFile::open(&path, &[Alg::EdDSA, Alg::RS256], 100, OVERLAP, true).unwrap();
    assert_eq!(first.keys.len(), 2);
    let (ed, rs) = (active_kid(&first, Alg::EdDSA), active_kid(&first, Alg::RS256));
    let same = KeyFile::open(&path, &[Alg::EdDSA, Alg::RS256], 110, OVERLAP, true).unwrap();
    assert_eq!((active_kid(&same, Alg::EdDSA), active_kid(&same, Alg::RS256)), (ed.clone(), rs.clone()));
    // A ring of the previous version (one key) gains the ID tokens' key, and keeps its own.
    let older = dir.path().join("older");
    KeyFile::open(&older, &[Alg::EdDSA], 100, OVERLAP, true).unwrap();
    let grown = KeyFile::open(&older, &[Alg::EdDSA, Alg::RS256], 110, OVERLAP, true).unwrap();
    assert_eq!(grown.keys.len(), 2);
    assert!(grown.keys.iter().all(|k| k.retired.is_none()));

    let rotated = KeyFile::rotate_file(&path, &[Alg::EdDSA, Alg::RS256], 200, OVERLAP).unwrap();
    assert_eq!(rotated.keys.len(), 4);
    assert_ne!(active_kid(&rotated, Alg::EdDSA), ed);
    assert_ne!(active_kid(&rotated, Alg::RS256), rs);
    assert_eq!(rotated.keys.iter().filter(|k| k.retired == Some(200)).count(), 2);

    let switched = KeyFile::open(&path, &[Alg::ES256, Alg::RS256], 300, OVERLAP, true).unwrap();
    assert!(switched.active(Alg::EdDSA).is_none(), "the old access algorithm is retired");
    assert_eq!(
        active_kid(&switched, Alg::RS256),
        active_kid(&rotated, Alg::RS256),
        "the ID tokens' key stays"
    );
    assert!(switched.active(Alg::ES256).is_some());
}

/// Eight instances starting at once, on a missing file and on an empty one, end up with one
/// ring: the same secret and the same signing key.
#[test]
fn instances_starting_at_once_share_one_ring() {
    for prepare in [|_: &Path| {}, |p: &Path| fs::write(p, "").unwrap()] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        prepare(&path);
        let seen: Vec<(String, String)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let ring = KeyFile::open(&path, &[Alg::EdDSA], 100, OVERLAP, true).unwrap();
                        (ring.master.id.clone(), active_kid(&ring, Alg::EdDSA))
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }
}

#[test]
fn a_damaged_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    for text in ["{not json", "c2hvcnQ", r#"{"format":3,"secret":"","keys":[]}"#] {
        fs::write(&path, text).unwrap();
        let err = KeyFile::open(&path, &[Alg::EdDSA], 100, OVERLAP, true).err().unwrap();
        assert!(format!("{err:#}").contains(&path.display().to_string()), "{err:#}");
    }
}
