/**
 * Request/reply contracts of the accounts area (v1): owners (register, confirm, log in, "my
 * account") and their IM accounts. The api-gateway validates HTTP bodies with the `*BodySchema`s
 * (strict: unknown fields are rejected) and forwards them as these RPCs with the owner id from the
 * access token; the accounts service answers them.
 */
import { z } from 'zod';
import { networkSchema } from './networks.js';
import { defineRpc } from './rpc.js';

/** The policy minimum for an owner password (issue 3: length ≥ 10, not equal to the e-mail). */
export const OWNER_PASSWORD_MIN_LENGTH = 10;

export const accountsIdSchema = z.uuid();
export const ownerEmailSchema = z.email('must be an e-mail address').max(254);
/** Upper bound keeps argon2 input (and request bodies) small; the policy is the minimum. */
export const ownerPasswordSchema = z
  .string()
  .min(OWNER_PASSWORD_MIN_LENGTH, `must be at least ${OWNER_PASSWORD_MIN_LENGTH} characters`)
  .max(1024);
export const ownerDisplayNameSchema = z.string().trim().min(1, 'must not be empty').max(100);
/** Confirmation tokens are 32 random bytes, base64url (43 characters). */
export const confirmationTokenSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'must be the token from the confirmation e-mail');

/**
 * Owners' access tokens: HS256 JWTs signed by accounts (login) and verified by api-gateway with the
 * shared PARLEY_JWT_SECRET; `sub` is the owner id.
 */
export const ACCESS_TOKEN_CLAIMS = {
  issuer: 'parley-accounts',
  audience: 'parley-api',
  algorithm: 'HS256',
} as const;

/** True when the password is the e-mail address (compared case-insensitively): the policy forbids it. */
export function passwordEqualsEmail(password: string, email: string): boolean {
  return password.trim().toLowerCase() === email.trim().toLowerCase();
}

/** What an owner sees of their own account. */
export const ownerProfileSchema = z.object({
  id: accountsIdSchema,
  email: z.string(),
  displayName: z.string(),
  emailConfirmed: z.boolean(),
  /** A new address waiting for its confirmation; the old one stays in use until then. */
  pendingEmail: z.string().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type OwnerProfile = z.infer<typeof ownerProfileSchema>;

/** An IM account as the API shows it: never its password. */
export const imAccountSchema = z.object({
  id: accountsIdSchema,
  network: networkSchema,
  address: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type ImAccount = z.infer<typeof imAccountSchema>;

// --- HTTP bodies (strict) -------------------------------------------------------------------

export const registerBodySchema = z.strictObject({
  email: ownerEmailSchema,
  password: ownerPasswordSchema,
  displayName: ownerDisplayNameSchema,
});
export const confirmBodySchema = z.strictObject({ token: confirmationTokenSchema });
/** Ask for the confirmation mail of a registration again (answered alike for every address). */
export const resendConfirmationBodySchema = z.strictObject({ email: ownerEmailSchema });
export const loginBodySchema = z.strictObject({
  email: ownerEmailSchema,
  // Login does not re-apply the policy: a wrong password is "wrong", never "too short".
  password: z.string().min(1).max(1024),
});
export const updateMeBodySchema = z.strictObject({
  displayName: ownerDisplayNameSchema.optional(),
  /** Changing the e-mail sends a confirmation to the new address; it applies once confirmed. */
  email: ownerEmailSchema.optional(),
});
export const changePasswordBodySchema = z.strictObject({
  currentPassword: z.string().min(1).max(1024),
  newPassword: ownerPasswordSchema,
});
export const createImAccountBodySchema = z.strictObject({
  network: networkSchema,
  address: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1024),
});

export const loginResponseSchema = z.object({
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int().positive(),
});
export const imAccountListSchema = z.object({ items: z.array(imAccountSchema) });
export const accountsEmptySchema = z.object({});

// --- RPCs -----------------------------------------------------------------------------------

const ownerScoped = { ownerId: accountsIdSchema };

export const accountsRpc = {
  register: defineRpc('accounts', 'register', registerBodySchema, ownerProfileSchema),
  confirmEmail: defineRpc('accounts', 'confirmEmail', confirmBodySchema, ownerProfileSchema),
  /** Mails a registration's token again if the address waits for confirmation; `{}` in every case. */
  resendConfirmation: defineRpc(
    'accounts',
    'resendConfirmation',
    resendConfirmationBodySchema,
    accountsEmptySchema,
  ),
  login: defineRpc('accounts', 'login', loginBodySchema, loginResponseSchema),
  getOwner: defineRpc('accounts', 'getOwner', z.strictObject(ownerScoped), ownerProfileSchema),
  updateOwner: defineRpc(
    'accounts',
    'updateOwner',
    z.strictObject({ ...ownerScoped, ...updateMeBodySchema.shape }),
    ownerProfileSchema,
  ),
  changePassword: defineRpc(
    'accounts',
    'changePassword',
    z.strictObject({ ...ownerScoped, ...changePasswordBodySchema.shape }),
    accountsEmptySchema,
  ),
  deleteOwner: defineRpc('accounts', 'deleteOwner', z.strictObject(ownerScoped), accountsEmptySchema),
  listImAccounts: defineRpc('accounts', 'listImAccounts', z.strictObject(ownerScoped), imAccountListSchema),
  createImAccount: defineRpc(
    'accounts',
    'createImAccount',
    z.strictObject({ ...ownerScoped, ...createImAccountBodySchema.shape }),
    imAccountSchema,
  ),
  getImAccount: defineRpc(
    'accounts',
    'getImAccount',
    z.strictObject({ ...ownerScoped, imAccountId: accountsIdSchema }),
    imAccountSchema,
  ),
  deleteImAccount: defineRpc(
    'accounts',
    'deleteImAccount',
    z.strictObject({ ...ownerScoped, imAccountId: accountsIdSchema }),
    accountsEmptySchema,
  ),
  /**
   * Internal, never exposed over HTTP: the decrypted credentials of one IM account, for the
   * services that log in as the owner (contact import, owner representation). NATS permissions
   * must restrict who may call it.
   */
  imAccountCredentials: defineRpc(
    'accounts',
    'imAccountCredentials',
    z.strictObject({ ...ownerScoped, imAccountId: accountsIdSchema }),
    imAccountSchema.extend({ password: z.string() }),
  ),
};
