// An upstream OpenID Connect provider written by someone else: panva's oidc-provider 9 (a
// certified OpenID Provider), started by tests/api/upstream_oidc_provider.rs on loopback. Its
// development interactions are its own sign-in and consent pages: any login name is accepted
// (with any password), and the account it names has `sub` = the login name, `email` =
// `{login}@example.org`, `email_verified` true unless the name begins with "unverified".
//
// Environment: RP_MODULES (node_modules holding oidc-provider), PORT, CLIENT_ID, CLIENT_SECRET,
// REDIRECT_URI. It prints "ready" once it listens.
import { pathToFileURL } from 'node:url';

const { default: Provider } = await import(pathToFileURL(`${process.env.RP_MODULES}/oidc-provider/lib/index.js`).href);
const { PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;

const provider = new Provider(`http://localhost:${PORT}`, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: [REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, email: `${id}@example.org`, email_verified: !id.startsWith('unverified'), name: id }),
  }),
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
});
provider.listen(Number(PORT), '127.0.0.1', () => console.log('ready'));
