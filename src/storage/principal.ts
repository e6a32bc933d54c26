// Who a bucket policy statement is about: rwm takes user names as an S3 admin knows them (an RGW
// uid, "tenant$uid", or a full ARN) and writes them as policy principals.

export type PolicyPrincipal = { readonly AWS: readonly string[] } | { readonly CanonicalUser: string };

const UID_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@+=,-]*$/;

/** The principal ARN for a user: "backup" → arn:aws:iam:::user/backup (RGW), "t$u" → arn:aws:iam::t:user/u, an ARN as is. */
export function userArn(user: string): string {
  if (user.startsWith('arn:')) {
    if (!/^arn:aws[a-z-]*:iam::[^:]*:(user|root|role)\b/.test(user)) throw new Error(`"${user}" is not an IAM user, role or account ARN`);
    return user;
  }
  const dollar = user.indexOf('$');
  const tenant = dollar < 0 ? '' : user.slice(0, dollar);
  const uid = dollar < 0 ? user : user.slice(dollar + 1);
  if (!UID_RE.test(uid) || (tenant !== '' && !UID_RE.test(tenant))) throw new Error(`invalid user name "${user}" (letters, digits and _ . @ + = , -; "tenant$user" for an RGW tenant; or a full ARN)`);
  return `arn:aws:iam::${tenant}:user/${uid}`;
}

/** The principal for the bucket owner as S3 reports its id (an RGW uid, or a 64-hex AWS canonical id). */
export function ownerPrincipal(ownerId: string): PolicyPrincipal {
  return /^[0-9a-f]{64}$/.test(ownerId) ? { CanonicalUser: ownerId } : { AWS: [userArn(ownerId)] };
}

/** The short form of an ARN rwm wrote: arn:aws:iam:::user/backup → backup. */
export function userNameOf(arn: string): string {
  const m = /^arn:aws:iam::([^:]*):user\/(.+)$/.exec(arn);
  if (m === null) return arn;
  return m[1] === '' ? (m[2] ?? arn) : `${m[1]}$${m[2] ?? ''}`;
}
