/**
 * Chains, their rules (ordered; created at a 1-based `position`) and IP address groups with
 * their addresses.
 */
import { randomUUID } from 'node:crypto';
import type { Op } from '../../store/index.js';
import {
  addCrud,
  commit,
  created,
  getMany,
  mustGet,
  NO_CONTENT,
  param,
  updateOp,
  changeMembers,
  withRetry,
  type ApiRouter,
  type Ctx,
  type Reply,
} from '../context.js';
import { chainDto, ipAddrGroupAddrDto, ipAddrGroupDto, MT, ruleDto } from '../dto.js';
import { HttpError, validationFailed } from '../http.js';
import { isIpv4, validateRest } from '../validate.js';

/** Registers chains, rules, IP address groups and their addresses. */
export function addChainResources(router: ApiRouter): void {
  addCrud(router, { kind: 'chain', path: '/chains', mt: MT.chain, dto: chainDto });
  router.add('GET', '/chains/:id/rules', async (ctx) => {
    const chain = await mustGet(ctx, 'chain', param(ctx, 'id'));
    const rules = await getMany(ctx, 'rule', chain.ruleIds);
    const body = rules.map((r) => ruleDto(ctx.base, r, chain.ruleIds.indexOf(r.id) + 1));
    return { status: 200, body, media: MT.rule, collection: true };
  });
  router.add('POST', '/chains/:id/rules', createRule);
  router.add('GET', '/rules/:id', async (ctx) => {
    const rule = await mustGet(ctx, 'rule', param(ctx, 'id'));
    const chain = await ctx.store.get('chain', rule.chainId);
    const position = (chain?.ruleIds.indexOf(rule.id) ?? -1) + 1;
    return { status: 200, body: ruleDto(ctx.base, rule, position), media: MT.rule };
  });
  router.add('DELETE', '/rules/:id', async (ctx) => {
    const id = param(ctx, 'id');
    await mustGet(ctx, 'rule', id);
    await commit(ctx, [{ op: 'delete', kind: 'rule', id }], { kind: 'rule', id });
    return NO_CONTENT;
  });

  addCrud(router, {
    kind: 'ip-addr-group',
    path: '/ip_addr_groups',
    mt: MT.ipAddrGroup,
    dto: ipAddrGroupDto,
    keep: ['addresses'],
  });
  router.add('GET', '/ip_addr_groups/:id/ip_addrs', async (ctx) => {
    const g = await mustGet(ctx, 'ip-addr-group', param(ctx, 'id'));
    const body = g.addresses.map((a) => ipAddrGroupAddrDto(ctx.base, g.id, a));
    return { status: 200, body, media: MT.ipAddrGroupAddr, collection: true };
  });
  router.add('POST', '/ip_addr_groups/:id/ip_addrs', addAddress);
  const addrPath = '/ip_addr_groups/:id/versions/:v/ip_addrs/:addr';
  router.add('GET', addrPath, async (ctx) => {
    const { g, addr } = await memberOf(ctx);
    return {
      status: 200,
      body: ipAddrGroupAddrDto(ctx.base, g.id, addr),
      media: MT.ipAddrGroupAddr,
    };
  });
  router.add('DELETE', addrPath, async (ctx) => {
    await withRetry(async () => {
      const { g, addr } = await memberOf(ctx);
      const addresses = g.addresses.filter((a) => a !== addr);
      await commit(ctx, [updateOp('ip-addr-group', g, { addresses })], {
        kind: 'ip-addr-group',
        id: g.id,
      });
    });
    return NO_CONTENT;
  });
}

function positionOf(raw: unknown, count: number): number {
  const v = (raw as { position?: unknown } | null)?.position;
  if (v === undefined || v === null) return count + 1;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > count + 1) {
    throw validationFailed([
      { property: 'position', message: `must be between 1 and ${count + 1}` },
    ]);
  }
  return n;
}

function checkRule(body: Record<string, unknown>): void {
  const type = body['type'];
  if (type === 'jump' && body['jumpChainId'] === undefined) {
    throw validationFailed([{ property: 'jumpChainId', message: 'is required for a jump rule' }]);
  }
  const targets = body['natTargets'];
  if ((type === 'dnat' || type === 'snat') && (!Array.isArray(targets) || targets.length === 0)) {
    throw validationFailed([{ property: 'natTargets', message: 'needs at least one target' }]);
  }
  // MidoNet's fragment policy: `header` with L4 fields, `any` without; an L4 match with `any`
  // or `nonheader` is refused. The default is what an unset policy means, so it is not stored.
  const l4 = body['tpSrc'] !== undefined || body['tpDst'] !== undefined;
  const policy = body['fragmentPolicy'];
  if (l4 && (policy === 'any' || policy === 'nonheader')) {
    throw validationFailed([
      { property: 'fragmentPolicy', message: `${policy} cannot be used with tpSrc or tpDst` },
    ]);
  }
  if (policy === (l4 ? 'header' : 'any')) delete body['fragmentPolicy'];
}

/** `POST /chains/{id}/rules`: creates the rule at its 1-based `position` (default: the end). */
async function createRule(ctx: Ctx): Promise<Reply> {
  const chainId = param(ctx, 'id');
  const raw = await ctx.body(MT.rule);
  const body = validateRest('rule', raw, { chainId });
  checkRule(body);
  const id = typeof body['id'] === 'string' ? body['id'] : randomUUID();
  body['id'] = id;
  const chain = await mustGet(ctx, 'chain', chainId);
  const position = positionOf(raw, chain.ruleIds.length);
  const op: Op = { op: 'create', kind: 'rule', object: body as never, position };
  await commit(ctx, [op], { kind: 'chain', id: chainId });
  return created(`${ctx.base}/rules/${id}`);
}

async function addAddress(ctx: Ctx): Promise<Reply> {
  const id = param(ctx, 'id');
  const raw = (await ctx.body(MT.ipAddrGroupAddr)) as { addr?: unknown; version?: unknown } | null;
  const addr = raw?.addr;
  const version = raw?.version ?? 4;
  if (version !== 4 && version !== '4') {
    throw validationFailed([{ property: 'version', message: 'only IPv4 (4) is supported' }]);
  }
  if (typeof addr !== 'string' || !isIpv4(addr)) {
    throw validationFailed([{ property: 'addr', message: 'must be an IPv4 address' }]);
  }
  await changeMembers(ctx, `ip-addr-group/${id}`, async () => {
    const g = await mustGet(ctx, 'ip-addr-group', id);
    if (g.addresses.includes(addr)) {
      throw new HttpError(409, `IP address group already contains IP ${addr}.`, {
        error: 'AlreadyExistsError',
      });
    }
    const op = updateOp('ip-addr-group', g, { addresses: [...g.addresses, addr] });
    await commit(ctx, [op], { kind: 'ip-addr-group', id });
  });
  return created(ipAddrGroupAddrDto(ctx.base, id, addr)['uri'] as string);
}

async function memberOf(ctx: Ctx) {
  const g = await mustGet(ctx, 'ip-addr-group', param(ctx, 'id'));
  const addr = param(ctx, 'addr');
  if (param(ctx, 'v') !== '4' || !g.addresses.includes(addr)) {
    throw new HttpError(404, `ip-addr-group/${g.id} has no address ${addr}`);
  }
  return { g, addr };
}
