from iot_proxy.cli import main

raise SystemExit(main())
