import type { IncomingMessage, ServerResponse } from 'node:http';
import { type EntityRegistration, registrationFromJson } from '../../core/entity';
import { isConversionError } from '../../core/errors';
import { type JsonObject, type JsonValue, isJsonObject, jsonTypeName } from '../../core/json';
import { type EntityTopicId, isEntityTopicId } from '../../core/topics';
import type { EntityService } from '../entities/entity-service';
import { EntityRequestError, type EntityUpdate } from '../entities/entity-requests';
import { parseEntityPath } from './entity-path';
import { parseEntityQuery } from './entity-query';
import { HttpError, readJson, sendEmpty, sendError, sendJson } from './http-io';
import { handleTwin } from './twin-api';

/** What the HTTP API asks of the entity store: the request methods of the agent's EntityService. */
export type EntityRequests = Pick<
  EntityService,
  'entity' | 'list' | 'create' | 'update' | 'remove' | 'twin' | 'twinFragment' | 'setTwinFragment' | 'replaceTwin' | 'settled' | 'exposedConfig'
>;

/** An entity as thin-edge serves it: metadata only, keys in its order, twin data under `/twin`. */
export function entityJson(e: EntityRegistration): JsonObject {
  const out: JsonObject = { '@topic-id': e.topicId };
  if (e.parent !== undefined) out['@parent'] = e.parent;
  out['@type'] = e.type;
  if (e.externalId !== undefined) out['@id'] = e.externalId;
  if (e.health !== undefined) out['@health'] = e.health;
  return out;
}

/** Maps what the entity store refused to a status; anything else is the server's to report (500). */
export function refusal(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err;
  if (err instanceof EntityRequestError) return new HttpError(err.kind === 'not-found' ? 404 : err.kind === 'conflict' ? 409 : 400, err.message);
  if (isConversionError(err)) return new HttpError(400, err.message.replace(/^Invalid JSON: /, ''));
  return undefined;
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow);
  sendError(res, 405, 'Method Not Allowed');
}

/** `/te/v1/entities[/<topic-id>[/twin[/<key>]]]`; `rest` is the path after `/te/v1/entities`. */
export async function handleEntities(entities: EntityRequests, req: IncomingMessage, res: ServerResponse, rest: string, search: URLSearchParams): Promise<void> {
  const resource = parseEntityPath(rest);
  switch (resource.kind) {
    case 'refused':
      return sendError(res, resource.status, resource.message);
    case 'collection':
      if (req.method === 'GET') return list(entities, res, search);
      if (req.method === 'POST') return create(entities, req, res);
      return methodNotAllowed(res, 'GET, POST');
    case 'entity':
      if (req.method === 'GET') return get(entities, res, resource.topicId);
      if (req.method === 'PATCH') return update(entities, req, res, resource.topicId);
      if (req.method === 'DELETE') return remove(entities, res, resource.topicId);
      return methodNotAllowed(res, 'GET, PATCH, DELETE');
    case 'twin':
    case 'twin-fragment':
      return handleTwin(entities, req, res, resource);
    case 'config':
      if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
      return exposedConfig(entities, res, resource.topicId, resource.key);
  }
}

function list(entities: EntityRequests, res: ServerResponse, search: URLSearchParams): void {
  const query = parseEntityQuery(search);
  if (!query.ok) throw new HttpError(400, query.message);
  sendJson(res, 200, entities.list(query.filters).map(entityJson));
}

async function create(entities: EntityRequests, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readJson(req);
  if (!isJsonObject(body)) throw new HttpError(400, `invalid type: ${jsonTypeName(body)}, expected an entity registration object`);
  const { '@topic-id': topicId, ...fields } = body;
  if (typeof topicId !== 'string') throw new HttpError(400, 'missing field `@topic-id`: the entity topic id, e.g. "device/child01//"');
  if (!isEntityTopicId(topicId) || /[+#\u0000]/.test(topicId)) {
    throw new HttpError(400, `An entity topic identifier has exactly 4 segments, e.g. 'device/child01//': '${topicId}'`);
  }
  entities.create(registrationFromJson(topicId, fields));
  await entities.settled();
  sendJson(res, 201, { '@topic-id': topicId });
}

function get(entities: EntityRequests, res: ServerResponse, topicId: EntityTopicId): void {
  const e = entities.entity(topicId);
  if (!e) throw new HttpError(404, `Entity with topic id: ${topicId} not found`);
  sendJson(res, 200, entityJson(e));
}

/** Only `@parent` and `@health` may be given; any other field is refused, as in thin-edge. */
function entityUpdate(body: JsonValue): EntityUpdate {
  if (!isJsonObject(body)) throw new HttpError(400, `invalid type: ${jsonTypeName(body)}, expected an object with \`@parent\` and/or \`@health\``);
  const out: { parent?: string; health?: string } = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== '@parent' && key !== '@health') throw new HttpError(400, `unknown field \`${key}\`, expected \`@parent\` or \`@health\``);
    if (value === null) continue;
    if (typeof value !== 'string' || !isEntityTopicId(value)) {
      throw new HttpError(400, `"${key}" must be an entity topic id with 4 segments, e.g. "device/child01//"`);
    }
    if (key === '@parent') out.parent = value;
    else out.health = value;
  }
  return out;
}

async function update(entities: EntityRequests, req: IncomingMessage, res: ServerResponse, topicId: EntityTopicId): Promise<void> {
  const change = entityUpdate(await readJson(req));
  const updated = entities.update(topicId, change);
  await entities.settled();
  sendJson(res, 200, entityJson(updated));
}

async function remove(entities: EntityRequests, res: ServerResponse, topicId: EntityTopicId): Promise<void> {
  const removed = entities.remove(topicId);
  await entities.settled();
  if (removed.length === 0) return sendEmpty(res, 204);
  sendJson(res, 200, removed.map(entityJson));
}

/** `GET …/config[/<key>]`: what the entity published on `te/<id>/config`; values keep their JSON type. */
function exposedConfig(entities: EntityRequests, res: ServerResponse, topicId: EntityTopicId, key: string | undefined): void {
  const config = entities.exposedConfig(topicId);
  if (key === undefined) return sendJson(res, 200, config);
  const value = config[key];
  if (value === undefined) throw new HttpError(404, `Configuration value for entity: ${topicId} with key: ${key} not found`);
  sendJson(res, 200, value);
}
