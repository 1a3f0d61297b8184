/**
 * The owners' IM accounts: address validated per network, password sealed with the key ring and
 * never returned — except to the internal credentials RPC used to log in as the owner.
 */
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DomainError } from '@parley/bus';
import { addressError, normalizeAddress, uuidv7, type ImAccount, type Network } from '@parley/contracts';
import { OwnerEntity } from '../owners/owner.entity.js';
import { KeyRing } from '../secrets/key-ring.js';
import { ImAccountEntity, passwordContext, sealedPassword } from './im-account.entity.js';

function toImAccount(row: ImAccountEntity): ImAccount {
  return { id: row.id, network: row.network, address: row.address, createdAt: row.createdAt.toISOString() };
}

const imAccountNotFound = () => new DomainError('not-found', 'no such IM account');

@Injectable()
export class ImAccountsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keyRing: KeyRing,
  ) {}

  async list(ownerId: string): Promise<{ items: ImAccount[] }> {
    const rows = await this.dataSource.manager.find(ImAccountEntity, {
      where: { ownerId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return { items: rows.map(toImAccount) };
  }

  async create(input: {
    ownerId: string;
    network: Network;
    address: string;
    password: string;
  }): Promise<ImAccount> {
    const problem = addressError(input.network, input.address.trim());
    if (problem) throw new DomainError('validation-failed', problem, 'address');
    const now = new Date();
    const id = uuidv7();
    const sealed = this.keyRing.seal(input.password, passwordContext({ id }));
    const row: ImAccountEntity = {
      id,
      ownerId: input.ownerId,
      network: input.network,
      address: normalizeAddress(input.network, input.address),
      passwordCiphertext: sealed.ciphertext,
      passwordIv: sealed.iv,
      passwordTag: sealed.tag,
      keyId: sealed.keyId,
      createdAt: now,
      updatedAt: now,
    };
    // Expected refusals are checked, not provoked: a failed INSERT would log its parameters.
    await this.dataSource.transaction(async (manager) => {
      const owner = await manager.findOne(OwnerEntity, {
        where: { id: input.ownerId },
        lock: { mode: 'pessimistic_read' },
      });
      if (!owner) throw new DomainError('not-found', 'no such owner');
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(ImAccountEntity)
        .values(row)
        .orIgnore()
        .returning(['id'])
        .execute();
      if ((inserted.raw as unknown[]).length === 0) {
        throw new DomainError('conflict', `this ${input.network} account is already stored`, 'address');
      }
    });
    return toImAccount(row);
  }

  async get(ownerId: string, imAccountId: string): Promise<ImAccount> {
    return toImAccount(await this.find(ownerId, imAccountId));
  }

  /** Scoped by owner: another owner's account id is indistinguishable from a missing one. */
  async delete(ownerId: string, imAccountId: string): Promise<Record<string, never>> {
    const result = await this.dataSource.manager.delete(ImAccountEntity, { id: imAccountId, ownerId });
    if (!result.affected) throw imAccountNotFound();
    return {};
  }

  async credentials(ownerId: string, imAccountId: string): Promise<ImAccount & { password: string }> {
    const row = await this.find(ownerId, imAccountId);
    return { ...toImAccount(row), password: this.keyRing.open(sealedPassword(row), passwordContext(row)) };
  }

  private async find(ownerId: string, imAccountId: string): Promise<ImAccountEntity> {
    const row = await this.dataSource.manager.findOne(ImAccountEntity, {
      where: { id: imAccountId, ownerId },
    });
    if (!row) throw imAccountNotFound();
    return row;
  }
}
