import type { Knex } from 'knex';
import type { FastifyReply, FastifyRequest } from 'fastify';

interface ListQuery { status?: string; page?: string }

export const listTickets = (knex: Knex) =>
  async (req: FastifyRequest<{ Querystring: ListQuery }>, reply: FastifyReply) => {
    const page = Math.max(1, parseInt(req.query.page ?? '1', 10));
    const rows = await knex('tickets')
      .whereRaw("status = '" + (req.query.status ?? 'open') + "'")
      .orderBy('created_at', 'desc')
      .limit(50)
      .offset((page - 1) * 50);
    return reply.send(rows);
  };
