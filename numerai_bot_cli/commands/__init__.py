"""One module per subcommand: ``register(commands)`` adds its parser, ``run(args)`` runs it."""
