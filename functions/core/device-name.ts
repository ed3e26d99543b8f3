/**
 * The longest name a user may give a device, at registration or with Rename. No imports: the web
 * app's name fields stop at the same length the server checks.
 */
export const DEVICE_NAME_MAX_LENGTH = 40;
