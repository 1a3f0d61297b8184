/**
 * Owners: registration with e-mail confirmation, login, and "my account" (profile, e-mail change
 * with re-confirmation, password change, deletion). Plain methods; the RPC edge is owners.handler.ts.
 */
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, IsNull, MoreThan, type EntityManager } from 'typeorm';
import { DomainError, JetStreamBus } from '@parley/bus';
import { logger } from '@parley/observability';
import {
  ownerEventIds,
  ownerSubjects,
  passwordEqualsEmail,
  streams,
  uuidv7,
  type OwnerProfile,
} from '@parley/contracts';
import { ConfirmationMailer } from '../mail/confirmation-mailer.js';
import { AccessTokenIssuer } from './access-tokens.js';
import { hashConfirmationToken, newConfirmationToken } from './confirmation-token.js';
import { EmailConfirmationEntity, type ConfirmationPurpose } from './email-confirmation.entity.js';
import { OwnerEntity } from './owner.entity.js';
import { decoyHash, hashPassword, verifyPassword } from './password-hashing.js';

export const CONFIRMATION_TTL_SECONDS = Symbol('CONFIRMATION_TTL_SECONDS');

const PG_UNIQUE_VIOLATION = '23505';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

function toProfile(owner: OwnerEntity): OwnerProfile {
  return {
    id: owner.id,
    email: owner.email,
    displayName: owner.displayName,
    emailConfirmed: owner.emailConfirmedAt !== null,
    pendingEmail: owner.pendingEmail,
    createdAt: owner.createdAt.toISOString(),
  };
}

const ownerNotFound = () => new DomainError('not-found', 'no such owner');
const emailTaken = () => new DomainError('conflict', 'this e-mail address is already registered', 'email');
const awaitingConfirmation = () =>
  new DomainError(
    'conflict',
    'this e-mail address is registered and waits for its confirmation: check your mail, or ask for a new one (POST /api/v1/auth/resend-confirmation)',
    'email',
  );
const wrongCredentials = () => new DomainError('unauthorized', 'the e-mail or the password is wrong');

@Injectable()
export class OwnersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly mailer: ConfirmationMailer,
    private readonly tokens: AccessTokenIssuer,
    private readonly bus: JetStreamBus,
    @Inject(CONFIRMATION_TTL_SECONDS) private readonly confirmationTtlSeconds: number,
  ) {}

  /**
   * Creates the owner (unconfirmed) and mails a confirmation token. A registration waiting for
   * its confirmation is never changed by another one: a second registration of that address is
   * refused (`conflict`, "check your mail, or ask for a new one"), so nobody can slip their
   * password under the token the address's owner is about to click. Only once every token of the
   * earlier attempt has expired (PARLEY_CONFIRMATION_TTL_SECONDS) may a new registration replace
   * it — nobody proved the mailbox, and a squatter blocks an address for one TTL at most.
   * A confirmed address answers `conflict`.
   */
  async register(input: { email: string; password: string; displayName: string }): Promise<OwnerProfile> {
    const email = normalizeEmail(input.email);
    if (passwordEqualsEmail(input.password, email)) {
      throw new DomainError('validation-failed', 'the password must not be the e-mail address', 'password');
    }
    const passwordHash = await hashPassword(input.password);
    return this.translateUniqueViolation(() =>
      this.dataSource.transaction(async (manager) => {
        const now = new Date();
        let owner = await manager.findOne(OwnerEntity, {
          where: { email },
          lock: { mode: 'pessimistic_write' },
        });
        if (owner?.emailConfirmedAt) throw emailTaken();
        if (owner && (await this.liveRegistrationToken(manager, owner.id, now))) {
          throw awaitingConfirmation();
        }
        if (owner) {
          Object.assign(owner, { passwordHash, displayName: input.displayName, updatedAt: now });
          // Earlier tokens die with the earlier attempt.
          await manager.update(
            EmailConfirmationEntity,
            { ownerId: owner.id, purpose: 'register', usedAt: IsNull() },
            { usedAt: now },
          );
        } else {
          owner = manager.create(OwnerEntity, {
            id: uuidv7(),
            email,
            displayName: input.displayName,
            passwordHash,
            emailConfirmedAt: null,
            pendingEmail: null,
            createdAt: now,
            updatedAt: now,
          });
        }
        await manager.save(owner);
        // Mail inside the transaction: if the SMTP server refuses, nothing is stored.
        await this.sendConfirmation(manager, owner, 'register', email);
        return toProfile(owner);
      }),
    );
  }

  /**
   * Mails the token of a registration again, for an address that waits for its confirmation:
   * a new token that expires with the registration's current one (asking again never extends
   * the life of a registration, so a squatter cannot keep an address blocked). Answers alike
   * whether the address is unknown, confirmed, expired or pending — and a mail that fails is
   * logged, not told — so the answer says nothing about the address.
   */
  async resendConfirmation(input: { email: string }): Promise<Record<string, never>> {
    const email = normalizeEmail(input.email);
    try {
      await this.dataSource.transaction(async (manager) => {
        const now = new Date();
        const owner = await manager.findOne(OwnerEntity, {
          where: { email },
          lock: { mode: 'pessimistic_write' },
        });
        if (!owner || owner.emailConfirmedAt) return;
        const live = await this.liveRegistrationToken(manager, owner.id, now);
        if (!live) return;
        await this.sendConfirmation(manager, owner, 'register', email, live.expiresAt);
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // sendConfirmation logged the SMTP failure; the caller is answered as for any address.
    }
    return {};
  }

  /** Applies a confirmation token (registration or e-mail change); each token works once, until it expires. */
  async confirmEmail(token: string): Promise<OwnerProfile> {
    return this.translateUniqueViolation(() =>
      this.dataSource.transaction(async (manager) => {
        const now = new Date();
        const confirmation = await manager.findOne(EmailConfirmationEntity, {
          where: { tokenHash: hashConfirmationToken(token) },
          lock: { mode: 'pessimistic_write' },
        });
        const invalid = (why: string) => new DomainError('validation-failed', why, 'token');
        if (!confirmation) throw invalid('this confirmation token is not valid');
        if (confirmation.usedAt) throw invalid('this confirmation token has already been used');
        if (confirmation.expiresAt.getTime() <= now.getTime()) {
          throw invalid('this confirmation token has expired; ask for a new one');
        }
        const owner = await manager.findOne(OwnerEntity, {
          where: { id: confirmation.ownerId },
          lock: { mode: 'pessimistic_write' },
        });
        if (!owner) throw invalid('this confirmation token is not valid');
        confirmation.usedAt = now;
        await manager.save(confirmation);
        if (confirmation.purpose === 'register') {
          owner.emailConfirmedAt ??= now;
        } else {
          if (owner.pendingEmail !== confirmation.email) {
            throw invalid('this confirmation token was replaced by a newer e-mail change');
          }
          const taken = await manager.exists(OwnerEntity, { where: { email: confirmation.email } });
          if (taken) throw emailTaken();
          owner.email = confirmation.email;
          owner.pendingEmail = null;
          owner.emailConfirmedAt = now;
        }
        owner.updatedAt = now;
        await manager.save(owner);
        return toProfile(owner);
      }),
    );
  }

  async login(input: { email: string; password: string }) {
    const owner = await this.dataSource.manager.findOne(OwnerEntity, {
      where: { email: normalizeEmail(input.email) },
    });
    if (!owner) {
      await verifyPassword(await decoyHash(), input.password);
      throw wrongCredentials();
    }
    if (!(await verifyPassword(owner.passwordHash, input.password))) throw wrongCredentials();
    // Only after the right password: an unconfirmed account is told so, nobody else learns it exists.
    if (!owner.emailConfirmedAt) {
      throw new DomainError(
        'forbidden',
        'confirm your e-mail address (see the mail we sent) before logging in',
      );
    }
    return {
      accessToken: await this.tokens.issue(owner.id),
      tokenType: 'Bearer' as const,
      expiresIn: this.tokens.ttlSeconds,
    };
  }

  async getOwner(ownerId: string): Promise<OwnerProfile> {
    const owner = await this.dataSource.manager.findOne(OwnerEntity, { where: { id: ownerId } });
    if (!owner) throw ownerNotFound();
    return toProfile(owner);
  }

  /** Display name applies at once; a new e-mail waits in `pendingEmail` until its token is confirmed. */
  async updateOwner(input: { ownerId: string; displayName?: string; email?: string }): Promise<OwnerProfile> {
    if (input.displayName === undefined && input.email === undefined) {
      throw new DomainError('validation-failed', 'give displayName and/or email to change');
    }
    return this.dataSource.transaction(async (manager) => {
      const now = new Date();
      const owner = await manager.findOne(OwnerEntity, {
        where: { id: input.ownerId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!owner) throw ownerNotFound();
      if (input.displayName !== undefined) owner.displayName = input.displayName;
      if (input.email !== undefined) {
        const email = normalizeEmail(input.email);
        if (email === owner.email) {
          owner.pendingEmail = null;
        } else {
          if (await manager.exists(OwnerEntity, { where: { email } })) throw emailTaken();
          owner.pendingEmail = email;
          await manager.update(
            EmailConfirmationEntity,
            { ownerId: owner.id, purpose: 'email-change', usedAt: IsNull() },
            { usedAt: now },
          );
          await this.sendConfirmation(manager, owner, 'email-change', email);
        }
      }
      owner.updatedAt = now;
      await manager.save(owner);
      return toProfile(owner);
    });
  }

  async changePassword(input: { ownerId: string; currentPassword: string; newPassword: string }) {
    const owner = await this.dataSource.manager.findOne(OwnerEntity, { where: { id: input.ownerId } });
    if (!owner) throw ownerNotFound();
    if (!(await verifyPassword(owner.passwordHash, input.currentPassword))) {
      throw new DomainError('forbidden', 'the current password is wrong', 'currentPassword');
    }
    if (passwordEqualsEmail(input.newPassword, owner.email)) {
      throw new DomainError(
        'validation-failed',
        'the password must not be the e-mail address',
        'newPassword',
      );
    }
    const passwordHash = await hashPassword(input.newPassword);
    await this.dataSource.manager.update(
      OwnerEntity,
      { id: owner.id },
      { passwordHash, updatedAt: new Date() },
    );
    return {};
  }

  /**
   * Deletes the owner with their tokens and IM accounts (ON DELETE CASCADE), after publishing the
   * durable `owner-deleted` fact: conference-core closes the owner's conferences (the bots say
   * goodbye) and the archive then deletes their history (docs/operations.md, "Deleting an owner").
   * The fact goes first: if it cannot be stored nothing is deleted and the owner may try again; if
   * the row cannot be deleted after it, a retry publishes the same fact id (stored once) and
   * deletes. Closing conferences of an owner who asked to leave is never wrong.
   */
  async deleteOwner(ownerId: string) {
    const exists = await this.dataSource.manager.exists(OwnerEntity, { where: { id: ownerId } });
    if (!exists) throw ownerNotFound();
    await this.bus.publish(streams.ownerEvents(), ownerSubjects.deleted(ownerId), {
      id: ownerEventIds.deleted(ownerId),
      occurredAt: new Date().toISOString(),
      type: 'owner-deleted',
      ownerId,
    });
    const result = await this.dataSource.manager.delete(OwnerEntity, { id: ownerId });
    if (!result.affected) throw ownerNotFound();
    return {};
  }

  /** The newest unused, unexpired registration token of an owner, if any. */
  private liveRegistrationToken(
    manager: EntityManager,
    ownerId: string,
    now: Date,
  ): Promise<EmailConfirmationEntity | null> {
    return manager.findOne(EmailConfirmationEntity, {
      where: { ownerId, purpose: 'register', usedAt: IsNull(), expiresAt: MoreThan(now) },
      order: { expiresAt: 'DESC' },
    });
  }

  private async sendConfirmation(
    manager: EntityManager,
    owner: OwnerEntity,
    purpose: ConfirmationPurpose,
    email: string,
    expiresAt = new Date(Date.now() + this.confirmationTtlSeconds * 1000),
  ): Promise<void> {
    const now = new Date();
    const { token, tokenHash } = newConfirmationToken();
    await manager.insert(EmailConfirmationEntity, {
      id: uuidv7(),
      ownerId: owner.id,
      tokenHash,
      purpose,
      email,
      expiresAt,
      usedAt: null,
      createdAt: now,
    });
    try {
      await this.mailer.send({ to: email, displayName: owner.displayName, token, purpose, expiresAt });
    } catch (error) {
      // The SMTP server's words stay in the log; the caller learns only that it should retry.
      logger().error({ err: error, purpose }, 'confirmation mail not accepted by the SMTP server');
      throw new DomainError('unavailable', 'the confirmation mail could not be sent; try again later');
    }
  }

  /** Two concurrent registrations (or changes) of one address: the loser gets `conflict`, not a 500. */
  private async translateUniqueViolation<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if ((error as { driverError?: { code?: string } }).driverError?.code === PG_UNIQUE_VIOLATION) {
        throw emailTaken();
      }
      throw error;
    }
  }
}
