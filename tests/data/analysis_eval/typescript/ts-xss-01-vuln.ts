import { Component, Input } from '@angular/core';
import { DomSanitizer, SafeHtml } from '@angular/platform-browser';

@Component({
  selector: 'app-profile-card',
  template: '<div class="bio" [innerHTML]="bioHtml"></div>',
})
export class ProfileCardComponent {
  bioHtml: SafeHtml = '';

  constructor(private readonly sanitizer: DomSanitizer) {}

  @Input() set bio(value: string) {
    this.bioHtml = this.sanitizer.bypassSecurityTrustHtml(value);
  }
}
