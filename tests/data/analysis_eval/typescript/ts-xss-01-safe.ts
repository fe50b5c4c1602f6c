import { Component, Input } from '@angular/core';

@Component({
  selector: 'app-profile-card',
  template: '<div class="bio" [innerHTML]="bioHtml"></div>',
})
export class ProfileCardComponent {
  bioHtml = '';

  @Input() set bio(value: string) {
    this.bioHtml = value;
  }
}
