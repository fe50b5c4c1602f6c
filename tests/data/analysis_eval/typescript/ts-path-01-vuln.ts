import { Controller, Get, Param, StreamableFile } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';

const ATTACH_ROOT = '/data/attachments';

@Controller('attachments')
export class AttachmentsController {
  @Get(':ticket/:file')
  download(@Param('ticket') ticket: string, @Param('file') file: string): StreamableFile {
    const full = join(ATTACH_ROOT, ticket, file);
    return new StreamableFile(createReadStream(full));
  }
}
