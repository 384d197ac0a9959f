/**
 * The real onoff class, in its own module so that only the `onoff` backend
 * loads it (and its native `epoll` addon): the simulation profile runs on
 * machines where that addon is not built.
 */
import { Gpio } from 'onoff';
import type { OnoffLike } from './onoff-like.js';

export const onoffGpio: OnoffLike = Gpio;
