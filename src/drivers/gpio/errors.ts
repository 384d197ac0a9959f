/**
 * GPIO errors carry a stable `code` and, where the kernel said something, the
 * errno in `cause`: callers and tests match on the code, never on the text.
 */
export type GpioErrorCode =
  /** No gpiochip (sysfs root or /dev) is the Pi's main GPIO controller or the configured one; or it vanished. */
  | 'GPIO_NO_CHIP'
  /** The BCM line is outside the main controller's lines. */
  | 'GPIO_BAD_LINE'
  /** The kernel refused the export, the direction or the value file. */
  | 'GPIO_ACCESS'
  /** The line is held by another consumer (cdev: the kernel names it). */
  | 'GPIO_BUSY'
  /** A write or read on a line that is not started (or already stopped). */
  | 'GPIO_NOT_STARTED';

export class GpioError extends Error {
  constructor(
    readonly code: GpioErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GpioError';
  }
}

/** Where a named line lives: the config's BCM number and the kernel's sysfs number. */
export interface LineAddress {
  name: string;
  bcm: number;
  sysfs: number;
}

/**
 * Turn an errno from onoff (export/direction/value files) into GPIO_ACCESS
 * naming the line and the likely cause. `Gpio.accessible` only checks that
 * `export` is writable, so this is where the truth comes out.
 */
export function accessError(addr: LineAddress, cause: unknown, sysfsRoot: string): GpioError {
  const errno = (cause as NodeJS.ErrnoException | undefined)?.code ?? 'UNKNOWN';
  const where = `gpio line "${addr.name}" (BCM ${addr.bcm}, sysfs ${addr.sysfs})`;
  let hint: string;
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      hint = `permission denied on ${sysfsRoot}: is the service user in the "gpio" group (usermod -aG gpio gate), and does the udev rule for /sys/class/gpio apply?`;
      break;
    case 'EINVAL':
      hint = `the kernel rejected sysfs number ${addr.sysfs}: wrong line number or wrong chip base (kernel 6.6+ numbers from the chip base, raspberrypi/linux#6084)`;
      break;
    case 'EBUSY':
      hint = 'the line is in use by a kernel driver or another process (a dtoverlay such as w1-gpio or i2c, or a second daemon); see /sys/kernel/debug/gpio';
      break;
    case 'ENOENT':
      hint = `${sysfsRoot} has no such file: is sysfs GPIO enabled in this kernel?`;
      break;
    default:
      hint = `unexpected error ${errno}`;
  }
  return new GpioError('GPIO_ACCESS', `${where}: ${errno}: ${hint}`, { cause });
}
