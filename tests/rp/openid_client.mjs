// A relying party written by someone else: panva's openid-client 6 (a certified OpenID
// Connect RP library), driven by tests/api/oidc/relying_parties.rs against a running
// Portcullis. It prints the authorization URL it built (PKCE S256, state, nonce) on one line,
// reads the callback URL the browser was sent to on stdin, then redeems the code (the library
// checks iss, state, the ID token's signature, audience, nonce and expiry), calls userinfo,
// refreshes, revokes and, for a confidential client, uses client_credentials. The result is
// one JSON line on stdout; any failure exits non-zero with the library's message on stderr.
//
// Environment: RP_MODULES (the node_modules holding openid-client), ISSUER, CLIENT_ID,
// CLIENT_SECRET (absent for a public client), REDIRECT_URI, SCOPE.
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';

const client = await import(pathToFileURL(`${process.env.RP_MODULES}/openid-client/build/index.js`).href);
const { ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, SCOPE } = process.env;

const auth = CLIENT_SECRET ? client.ClientSecretPost(CLIENT_SECRET) : client.None();
// An http:// issuer on loopback is a test setup: the library refuses it unless told.
const config = await client.discovery(new URL(ISSUER), CLIENT_ID, undefined, auth, {
  execute: [client.allowInsecureRequests],
});

const pkceCodeVerifier = client.randomPKCECodeVerifier();
const code_challenge = await client.calculatePKCECodeChallenge(pkceCodeVerifier);
const expectedState = client.randomState();
const expectedNonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: REDIRECT_URI,
  scope: SCOPE,
  code_challenge,
  code_challenge_method: 'S256',
  state: expectedState,
  nonce: expectedNonce,
});
console.log(url.href);

const lines = createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => lines.once('line', resolve));
lines.close();

const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier,
  expectedState,
  expectedNonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
const result = { claims, userinfo, scope: tokens.scope };
if (tokens.refresh_token) {
  const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
  result.refreshed = { claims: refreshed.claims(), rotated: refreshed.refresh_token !== tokens.refresh_token };
  await client.tokenRevocation(config, refreshed.refresh_token);
  try {
    await client.refreshTokenGrant(config, refreshed.refresh_token);
    result.after_revocation = 'accepted';
  } catch (e) {
    result.after_revocation = e.error ?? e.code ?? String(e);
  }
}
if (CLIENT_SECRET) {
  const service = await client.clientCredentialsGrant(config);
  result.client_credentials = { token_type: service.token_type, has_access_token: !!service.access_token };
}
console.log(JSON.stringify(result));
