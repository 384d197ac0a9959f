{
  "targets": [
    {
      "target_name": "gpio_cdev",
      "sources": ["gpio_cdev.c"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
