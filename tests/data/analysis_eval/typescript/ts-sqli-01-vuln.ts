import { Request, Response } from 'express';
import { DataSource } from 'typeorm';

export function makeInviteHandler(db: DataSource) {
  return async (req: Request, res: Response): Promise<void> => {
    const email: string = String(req.body.email ?? '').toLowerCase();
    const teamId: number = Number(req.params.teamId);
    const existing = await db.query(
      `SELECT id FROM members WHERE team_id = ${teamId} AND email = '${email}'`
    );
    if (existing.length > 0) {
      res.status(409).json({ error: 'already a member' });
      return;
    }
    res.status(202).json({ invited: email });
  };
}
