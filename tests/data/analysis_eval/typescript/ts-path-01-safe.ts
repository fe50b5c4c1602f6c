import { BadRequestException, Controller, Get, Param, StreamableFile } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';

const ATTACH_ROOT = resolve('/data/attachments');

@Controller('attachments')
export class AttachmentsController {
  @Get(':ticket/:file')
  download(@Param('ticket') ticket: string, @Param('file') file: string): StreamableFile {
    const full = resolve(ATTACH_ROOT, ticket, file);
    const rel = relative(ATTACH_ROOT, full);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      throw new BadRequestException('invalid attachment path');
    }
    return new StreamableFile(createReadStream(full));
  }
}
